{#- The watermark of every partition of the raw topic: how far ingestion has read it. The daily DAG's completeness
    sensor (daily/completeness.py) compares caught_up_at with the end of day D. -#}
SELECT
    `partition`,
    caught_up_at
FROM `{{ project }}.{{ dataset }}.ingestion_watermarks`
WHERE topic = {{ topic | sql_string }}
