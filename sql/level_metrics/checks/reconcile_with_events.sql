-- severity: fail
-- description: attempts, completions and failures summed over levels must equal the day's 1001, 1002, 1003 events
WITH from_events AS (
    SELECT
        COUNTIF(event_type = 1001) AS attempts,
        COUNTIF(event_type = 1002) AS completions,
        COUNTIF(event_type = 1003) AS failures
    FROM `{{ project }}.{{ dataset }}.events`
    WHERE event_date = DATE '{{ ds }}'
),

from_table AS (
    SELECT
        COALESCE(SUM(attempts), 0) AS attempts,
        COALESCE(SUM(completions), 0) AS completions,
        COALESCE(SUM(failures), 0) AS failures
    FROM `{{ project }}.{{ dataset }}.level_metrics`
    WHERE `date` = DATE '{{ ds }}'
),

compared AS (
    SELECT
        'attempts' AS measure,
        e.attempts AS events_value,
        t.attempts AS table_value
    FROM from_events AS e CROSS JOIN from_table AS t
    UNION ALL
    SELECT
        'completions' AS measure,
        e.completions AS events_value,
        t.completions AS table_value
    FROM from_events AS e CROSS JOIN from_table AS t
    UNION ALL
    SELECT
        'failures' AS measure,
        e.failures AS events_value,
        t.failures AS table_value
    FROM from_events AS e CROSS JOIN from_table AS t
)

SELECT
    measure,
    events_value,
    table_value
FROM compared
WHERE events_value != table_value
