{#- The ingestion's append of one batch's new rows to `events` (ingest/loader.py; run by sql/ingest_batch.sql, whose
    new_messages macro keeps only the messages past the recorded offsets). The staging table holds `parameters` as
    JSON text (the batch's Parquet file). An event_id sent twice in two messages is two rows here until the daily
    DAG de-duplicates its day (events/deduplicate.sql). -#}
{% from "_macros/ingest.sql" import new_messages with context -%}
INSERT INTO `{{ project }}.{{ dataset }}.events` (
    {%- for column in event_columns %}
        `{{ column }}`{{ "," if not loop.last }}
    {%- endfor %}
)
SELECT
{%- for column in event_columns %}
    {%- if column == "parameters" %}
            PARSE_JSON(S.parameters, wide_number_mode => 'round') AS parameters{{ "," if not loop.last }}
    {%- else %}
            S.`{{ column }}`{{ "," if not loop.last }}
    {%- endif %}
{%- endfor %}
{{ new_messages(staging_events) }};
