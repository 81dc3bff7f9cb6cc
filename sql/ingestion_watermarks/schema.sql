-- One row per (topic, partition), updated by every ingestion run; the daily DAG's sensor reads it.
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.ingestion_watermarks` (
    topic STRING NOT NULL,
    `partition` INT64 NOT NULL,
    caught_up_at TIMESTAMP,
    max_event_timestamp TIMESTAMP,
    committed_offset INT64,
    updated_at TIMESTAMP NOT NULL
)
