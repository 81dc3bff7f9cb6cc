{#- Partition -> the next offset the warehouse has taken, for the run's topic and consumer group
    (ingest/loader.py: a run resumes from here, whatever the group's offsets in Kafka say). -#}
SELECT
    `partition`,
    next_offset
FROM `{{ project }}.{{ dataset }}.ingestion_offsets`
WHERE topic = {{ topic | sql_string }} AND consumer_group = {{ consumer_group | sql_string }}
