-- severity: fail
-- description: revenue_daily_metrics has no rows for the day although events holds rows for it
WITH counts AS (
    SELECT
        (
            SELECT COUNT(*)
            FROM `{{ project }}.{{ dataset }}.events`
            WHERE event_date = DATE '{{ ds }}'
        ) AS events_rows,
        (
            SELECT COUNT(*)
            FROM `{{ project }}.{{ dataset }}.revenue_daily_metrics`
            WHERE `date` = DATE '{{ ds }}'
        ) AS table_rows
)

SELECT
    events_rows,
    table_rows
FROM counts
WHERE events_rows > 0 AND table_rows = 0
