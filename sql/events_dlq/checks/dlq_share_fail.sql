-- severity: fail
-- description: share of the day's messages that were dead-lettered is above dlq_share_fail
-- Share = DLQ rows with DATE(failed_at) = D / (events with event_date = D + those DLQ rows).
WITH counts AS (
    SELECT
        (
            SELECT COUNT(*)
            FROM `{{ project }}.{{ dataset }}.events_dlq`
            WHERE DATE(failed_at) = DATE '{{ ds }}'
        ) AS dlq_rows,
        (
            SELECT COUNT(*)
            FROM `{{ project }}.{{ dataset }}.events`
            WHERE event_date = DATE '{{ ds }}'
        ) AS events_rows
)

SELECT
    dlq_rows,
    events_rows,
    dlq_rows / (dlq_rows + events_rows) AS dlq_share,
    CAST({{ dlq_share_fail }} AS FLOAT64) AS fail_above
FROM counts
WHERE dlq_rows > 0 AND dlq_rows / (dlq_rows + events_rows) > {{ dlq_share_fail }}
