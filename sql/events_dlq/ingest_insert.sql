{#- The ingestion's INSERT of one batch's dead letters (ingest/loader.py; run by sql/ingest_batch.sql): from the
    run's staging table, each unless its message (topic, partition, offset) is already kept. -#}
INSERT INTO `{{ project }}.{{ dataset }}.events_dlq` ({{ dlq_columns | join(", ") }})
SELECT {{ dlq_columns | join(", ") }} FROM `{{ staging_dlq }}` AS S
WHERE NOT EXISTS (
    SELECT 1 FROM `{{ project }}.{{ dataset }}.events_dlq` AS T
    WHERE
        T.kafka_topic = S.kafka_topic
        AND T.kafka_partition = S.kafka_partition
        AND T.kafka_offset = S.kafka_offset
);
