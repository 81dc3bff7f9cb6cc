{#- Forget every offset recorded for a topic (ingest/loader.py: forget_offsets): its messages are taken again from
    the start. The local stack does it at each start, its broker being new and empty (the old offsets would skip the
    new topic's first messages); an operator does it before a replay meant to store messages again. -#}
DELETE FROM `{{ project }}.{{ dataset }}.ingestion_offsets`
WHERE
    topic = {{ topic | sql_string }}
    AND `partition` BETWEEN 0 AND 1023
