-- One row per (topic, partition, consumer group): the next offset to read, written in the same
-- transaction as the batch's rows, so a restart resumes from what the warehouse holds. Partitioned by Kafka
-- partition (up to 1024): a batch reads and writes only its own partitions' rows. (Two shards' transactions
-- still conflict on BigQuery, which locks per table: the loader retries an aborted batch.)
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.ingestion_offsets` (
    topic STRING NOT NULL,
    `partition` INT64 NOT NULL,
    consumer_group STRING NOT NULL,
    next_offset INT64 NOT NULL,
    updated_at TIMESTAMP NOT NULL
)
PARTITION BY RANGE_BUCKET(`partition`, GENERATE_ARRAY(0, 1024, 1))
