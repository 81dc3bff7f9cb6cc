{#- How far the ingestion has read each partition of the raw topic (health/measure.py; with the broker's end
    offsets: the lag): the consumer group's next offset in ingestion_offsets, and caught_up_at from
    ingestion_watermarks. -#}
SELECT
    `partition`,
    MAX(next_offset) AS next_offset,
    MAX(caught_up_at) AS caught_up_at
FROM (
    SELECT
        `partition`,
        next_offset,
        CAST(NULL AS TIMESTAMP) AS caught_up_at
    FROM `{{ project }}.{{ dataset }}.ingestion_offsets`
    WHERE topic = {{ topic | sql_string }} AND consumer_group = {{ consumer_group | sql_string }}
    UNION ALL
    SELECT
        `partition`,
        NULL AS next_offset,
        caught_up_at
    FROM `{{ project }}.{{ dataset }}.ingestion_watermarks`
    WHERE topic = {{ topic | sql_string }}
)
GROUP BY `partition`
