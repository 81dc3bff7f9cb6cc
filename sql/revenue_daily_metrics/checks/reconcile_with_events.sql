-- severity: fail
-- description: revenue_usd summed over groups must match the day's price_usd within 0.01, purchases its 2001 events
WITH from_events AS (
    SELECT
        COUNTIF(event_type = 2001) AS purchases,
        COALESCE(
            SUM(IF(event_type = 2001, SAFE_CAST(JSON_VALUE(parameters, '$.price_usd') AS FLOAT64), NULL)), 0
        ) AS revenue_usd
    FROM `{{ project }}.{{ dataset }}.events`
    WHERE event_date = DATE '{{ ds }}'
),

from_table AS (
    SELECT
        COALESCE(SUM(purchases), 0) AS purchases,
        COALESCE(SUM(revenue_usd), 0) AS revenue_usd
    FROM `{{ project }}.{{ dataset }}.revenue_daily_metrics`
    WHERE `date` = DATE '{{ ds }}'
),

compared AS (
    SELECT
        'purchases' AS measure,
        CAST(e.purchases AS FLOAT64) AS events_value,
        CAST(t.purchases AS FLOAT64) AS table_value,
        0.0 AS tolerance
    FROM from_events AS e CROSS JOIN from_table AS t
    UNION ALL
    SELECT
        'revenue_usd' AS measure,
        e.revenue_usd AS events_value,
        t.revenue_usd AS table_value,
        0.01 AS tolerance
    FROM from_events AS e CROSS JOIN from_table AS t
)

SELECT
    measure,
    events_value,
    table_value
FROM compared
WHERE ABS(events_value - table_value) > tolerance
