-- severity: fail
-- description: the players active on D and what the lifetime totals grew by since D-1 must equal D's user_daily_metrics
WITH lifetime AS (
    SELECT
        COUNTIF(`date` = DATE '{{ ds }}' AND days_seen_bits & 1 != 0) AS active_players,
        SUM(IF(`date` = DATE '{{ ds }}', events, -events)) AS events,
        SUM(IF(`date` = DATE '{{ ds }}', purchases, -purchases)) AS purchases,
        SUM(IF(`date` = DATE '{{ ds }}', revenue_usd, -revenue_usd)) AS revenue_usd
    FROM `{{ project }}.{{ dataset }}.user_lifetime_stats`
    WHERE `date` BETWEEN DATE_SUB(DATE '{{ ds }}', INTERVAL 1 DAY) AND DATE '{{ ds }}'
),

day AS (
    SELECT
        COUNT(*) AS active_players,
        COALESCE(SUM(events), 0) AS events,
        COALESCE(SUM(purchases), 0) AS purchases,
        COALESCE(SUM(revenue_usd), 0) AS revenue_usd
    FROM `{{ project }}.{{ dataset }}.user_daily_metrics`
    WHERE `date` = DATE '{{ ds }}' AND user_id IS NOT NULL
),

compared AS (
    SELECT
        'active_players' AS measure,
        CAST(d.active_players AS FLOAT64) AS day_value,
        CAST(l.active_players AS FLOAT64) AS lifetime_value
    FROM day AS d CROSS JOIN lifetime AS l
    UNION ALL
    SELECT
        'events added' AS measure,
        CAST(d.events AS FLOAT64) AS day_value,
        CAST(COALESCE(l.events, 0) AS FLOAT64) AS lifetime_value
    FROM day AS d CROSS JOIN lifetime AS l
    UNION ALL
    SELECT
        'purchases added' AS measure,
        CAST(d.purchases AS FLOAT64) AS day_value,
        CAST(COALESCE(l.purchases, 0) AS FLOAT64) AS lifetime_value
    FROM day AS d CROSS JOIN lifetime AS l
    UNION ALL
    SELECT
        'revenue_usd added' AS measure,
        d.revenue_usd AS day_value,
        COALESCE(l.revenue_usd, 0) AS lifetime_value
    FROM day AS d CROSS JOIN lifetime AS l
)

SELECT
    measure,
    day_value,
    lifetime_value
FROM compared
WHERE ABS(day_value - lifetime_value) > 0.01
