{#- The messages of a batch's staging table that are new: at or past the next offset recorded for their Kafka
    partition in ingestion_offsets by any consumer group of the topic (so a replay with a new group adds nothing).
    Reads the offsets of the batch's own partitions only (`offsets`: the batch's [partition, next offset] pairs). Import it `with context`
    (project, dataset, topic, offsets): sql/ingest_batch.sql and the parts it includes. -#}
-- noqa: disable=LT02
{% macro new_messages(staging) -%}
FROM `{{ staging }}` AS S
LEFT JOIN (
    SELECT
        `partition`,
        MAX(next_offset) AS next_offset
    FROM `{{ project }}.{{ dataset }}.ingestion_offsets`
    WHERE
        topic = {{ topic | sql_string }}
        AND `partition` IN ({{ offsets | map("first") | join(", ") }})
    GROUP BY `partition`
) AS taken ON S.kafka_partition = taken.`partition`
WHERE S.kafka_offset >= COALESCE(taken.next_offset, 0)
{%- endmacro %}
