{#- The batch's end offsets per partition, for the run's topic and consumer group (ingest/loader.py; run last by
    sql/ingest_batch.sql). An offset never moves backwards. The table is partitioned by Kafka partition, and the
    target is bounded to the batch's own: shards (disjoint partitions) never touch each other's rows. -#}
MERGE `{{ project }}.{{ dataset }}.ingestion_offsets` AS T
USING (
    {%- for partition, next_offset in offsets %}
        SELECT
            {{ topic | sql_string }} AS topic,
            {{ partition }} AS `partition`,
            {{ consumer_group | sql_string }} AS consumer_group,
            {{ next_offset }} AS next_offset
        {%- if not loop.last %}
            UNION ALL
        {%- endif %}
    {%- endfor %}
) AS S
    ON
        T.topic = S.topic
        AND T.`partition` = S.`partition`
        AND T.consumer_group = S.consumer_group
        AND T.`partition` IN ({{ offsets | map("first") | join(", ") }})
WHEN MATCHED THEN
    UPDATE SET
        next_offset = GREATEST(T.next_offset, S.next_offset),
        updated_at = CURRENT_TIMESTAMP()
WHEN NOT MATCHED THEN
    INSERT (topic, `partition`, consumer_group, next_offset, updated_at)
    VALUES (S.topic, S.`partition`, S.consumer_group, S.next_offset, CURRENT_TIMESTAMP());
