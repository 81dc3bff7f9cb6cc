-- One row per unique event_id (the ingestion MERGE keeps it so); see shared spec game-events.md.
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.events` (
    event_id STRING NOT NULL,
    user_id STRING NOT NULL,
    session_id STRING,
    event_type INT64 NOT NULL,
    event_name STRING,
    `timestamp` TIMESTAMP NOT NULL,
    parameters JSON,
    platform STRING,
    app_version STRING,
    country STRING,
    device_model STRING,
    event_date DATE NOT NULL,
    event_hour INT64,
    day_of_week INT64,
    device_category STRING,
    device_tier STRING,
    region STRING,
    kafka_topic STRING,
    kafka_partition INT64,
    kafka_offset INT64,
    ingested_at TIMESTAMP
)
PARTITION BY event_date
CLUSTER BY event_type, user_id
OPTIONS (require_partition_filter = TRUE)
