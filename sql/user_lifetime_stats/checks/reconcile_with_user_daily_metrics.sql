-- severity: fail
-- description: the players active on D and what the lifetime totals grew by since D-1 must equal D's user_daily_metrics
{% from '_macros/checks.sql' import measures_differ with context -%}
WITH lifetime AS (
    SELECT
        COUNTIF(`date` = DATE '{{ ds }}' AND days_seen_bits & 1 != 0) AS active_players,
        COALESCE(SUM(IF(`date` = DATE '{{ ds }}', events, -events)), 0) AS events_added,
        COALESCE(SUM(IF(`date` = DATE '{{ ds }}', purchases, -purchases)), 0) AS purchases_added,
        COALESCE(SUM(IF(`date` = DATE '{{ ds }}', revenue_usd, -revenue_usd)), 0) AS revenue_usd_added
    FROM `{{ project }}.{{ dataset }}.user_lifetime_stats`
    WHERE `date` BETWEEN DATE_SUB(DATE '{{ ds }}', INTERVAL 1 DAY) AND DATE '{{ ds }}'
),

day AS (
    SELECT
        COUNT(*) AS active_players,
        COALESCE(SUM(events), 0) AS events_added,
        COALESCE(SUM(purchases), 0) AS purchases_added,
        COALESCE(SUM(revenue_usd), 0) AS revenue_usd_added
    FROM `{{ project }}.{{ dataset }}.user_daily_metrics`
    WHERE `date` = DATE '{{ ds }}' AND user_id IS NOT NULL
)

{{ measures_differ(
    'day', 'lifetime', ['active_players', 'events_added', 'purchases_added', 'revenue_usd_added'],
    {'revenue_usd_added': 0.01}, 'day_value', 'lifetime_value'
) }}
