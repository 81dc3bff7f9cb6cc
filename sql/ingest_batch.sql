{#- The warehouse script of one ingestion batch (ingest/loader.py says why this order): the rows, the dead letters,
    the offsets last, in one transaction when use_transaction; then how many rows this batch added (its rows carry
    its ingested_at). A statement with nothing to do is left out. The statements stand at the top level, not
    indented under the {% if %} that includes them (for sqlfluff, below):
-- sqlfluff:indentation:template_blocks_indent:False
-#}
{% if use_transaction -%}
BEGIN TRANSACTION;
{% endif -%}
{% if load_events -%}
{% include "events/ingest_merge.sql" %}
{% endif -%}
{% if load_dead_letters -%}
{% include "events_dlq/ingest_insert.sql" %}
{% endif -%}
{% if offsets -%}
{% include "ingestion_offsets/merge.sql" %}
{% endif -%}
{% if use_transaction -%}
COMMIT TRANSACTION;
{% endif -%}
SELECT
    {% if load_events -%}
    (
        SELECT COUNT(*)
        FROM `{{ project }}.{{ dataset }}.events`
        WHERE
            event_date IN (
                {%- for day in event_dates %}
                DATE {{ day | sql_string }}{{ "," if not loop.last }}
                {%- endfor %}
            )
            AND ingested_at = TIMESTAMP {{ ingested_at | sql_string }}
            AND kafka_topic = {{ topic | sql_string }}
    )
    {%- else -%}
    0
    {%- endif %} AS loaded,
    {% if load_dead_letters -%}
    (
        SELECT COUNT(*)
        FROM `{{ project }}.{{ dataset }}.events_dlq`
        WHERE
            DATE(failed_at) = DATE(TIMESTAMP {{ ingested_at | sql_string }})
            AND failed_at = TIMESTAMP {{ ingested_at | sql_string }}
            AND kafka_topic = {{ topic | sql_string }}
    )
    {%- else -%}
    0
    {%- endif %} AS dead_lettered;
