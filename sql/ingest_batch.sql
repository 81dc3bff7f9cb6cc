{#- The warehouse script of one ingestion batch (ingest/loader.py says why this order). Every statement reads the
    batch (the run's staging tables) and the recorded offsets of the batch's own Kafka partitions, never `events`
    or `events_dlq`: its cost follows the batch, not the history. A message is new when its offset is at or past
    the next offset recorded for its partition by any consumer group of the topic (so a replay adds nothing):
    only new messages are appended, the rows (with their live counts) and dead letters first, the offsets last, in
    one transaction when use_transaction. The counts of what it added are taken before the offsets move and
    returned at the end.
    The statements stand at the top level, not indented under the {% if %} that includes them (for sqlfluff):
-- sqlfluff:indentation:template_blocks_indent:False
-#}
{% from "_macros/ingest.sql" import new_messages with context -%}
DECLARE loaded INT64 DEFAULT 0;
DECLARE dead_lettered INT64 DEFAULT 0;
{% if use_transaction -%}
BEGIN TRANSACTION;
{% endif -%}
{% if load_events -%}
SET loaded = (SELECT COUNT(*) {{ new_messages(staging_events) }});
{% include "events/ingest_insert.sql" %}
{% include "live_event_counts/ingest_insert.sql" %}
{% endif -%}
{% if load_dead_letters -%}
SET dead_lettered = (SELECT COUNT(*) {{ new_messages(staging_dlq) }});
{% include "events_dlq/ingest_insert.sql" %}
{% endif -%}
{% include "ingestion_offsets/merge.sql" %}
{% if use_transaction -%}
COMMIT TRANSACTION;
{% endif -%}
SELECT
    loaded,
    dead_lettered;
