{#- How many dead letters one ingestion batch added, per reason (ingest/loader.py, only when the batch added some of
    its dead letters but not all): the batch's rows in events_dlq carry its ingested_at as failed_at, the
    partitioning column. A Jinja comment, not SQL: the emulator misreads a timestamp literal with fractional seconds
    that follows an SQL comment holding an apostrophe (tests/health/test_emulator_quirks.py). -#}
SELECT
    reason_code,
    COUNT(*) AS dead_letters
FROM `{{ project }}.{{ dataset }}.events_dlq`
WHERE
    failed_at = TIMESTAMP {{ ingested_at | sql_string }}
    AND kafka_topic = {{ topic | sql_string }}
GROUP BY reason_code
