-- severity: fail
-- description: level_metrics has no rows for the day although events holds level events (1001-1003) for it
WITH counts AS (
    SELECT
        (
            SELECT COUNT(*)
            FROM `{{ project }}.{{ dataset }}.events`
            WHERE event_date = DATE '{{ ds }}' AND event_type IN (1001, 1002, 1003)
        ) AS level_events_rows,
        (
            SELECT COUNT(*)
            FROM `{{ project }}.{{ dataset }}.level_metrics`
            WHERE `date` = DATE '{{ ds }}'
        ) AS table_rows
)

SELECT
    level_events_rows,
    table_rows
FROM counts
WHERE level_events_rows > 0 AND table_rows = 0
