-- How many dead letters one ingestion batch added, per reason (ingest/run.py, only when the batch added some of its
-- dead letters but not all): the batch's rows in events_dlq carry its ingested_at as failed_at.
SELECT
    reason_code,
    COUNT(*) AS dead_letters
FROM `{{ project }}.{{ dataset }}.events_dlq`
WHERE
    DATE(failed_at) = DATE(TIMESTAMP {{ ingested_at | sql_string }})
    AND failed_at = TIMESTAMP {{ ingested_at | sql_string }}
    AND kafka_topic = {{ topic | sql_string }}
GROUP BY reason_code
