{#- The ingestion's append of one batch's new dead letters (ingest/loader.py; run by sql/ingest_batch.sql, whose
    new_messages macro keeps only the messages past the offsets recorded by any consumer group: a message is
    dead-lettered once). -#}
{% from "_macros/ingest.sql" import new_messages with context -%}
INSERT INTO `{{ project }}.{{ dataset }}.events_dlq` ({{ dlq_columns | join(", ") }})
SELECT
{%- for column in dlq_columns %}
        S.{{ column }}{{ "," if not loop.last }}
{%- endfor %}
{{ new_messages(staging_dlq) }};
