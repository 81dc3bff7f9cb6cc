-- One row per (topic, partition), updated by every ingestion run (each shard its own partitions' rows); the daily
-- DAG's sensor reads it. Partitioned by Kafka partition, like ingestion_offsets: a shard's MERGE touches only its own.
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.ingestion_watermarks` (
    topic STRING NOT NULL,
    `partition` INT64 NOT NULL,
    caught_up_at TIMESTAMP,
    max_event_timestamp TIMESTAMP,
    committed_offset INT64,
    updated_at TIMESTAMP NOT NULL
)
PARTITION BY RANGE_BUCKET(`partition`, GENERATE_ARRAY(0, 1024, 1))
