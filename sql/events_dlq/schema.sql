-- One row per rejected message, kept with its reason so nothing is silently dropped.
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.events_dlq` (
    raw_value STRING,
    raw_value_encoding STRING,
    message_key STRING,
    reason_code STRING NOT NULL,
    reason_text STRING,
    kafka_topic STRING,
    kafka_partition INT64,
    kafka_offset INT64,
    failed_at TIMESTAMP NOT NULL
)
PARTITION BY DATE(failed_at)
