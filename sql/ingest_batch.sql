{#- The warehouse script of one ingestion batch (ingest/loader.py says why this order). Every statement reads the
    batch (the run's staging tables) and the recorded offsets of the batch's own Kafka partitions, never `events`
    or `events_dlq`: its cost follows the batch, not the history. A message is new when its offset is at or past
    the next offset recorded for its partition by any consumer group of the topic (so a replay adds nothing):
    only new messages are appended, the rows (with their live counts) and dead letters first, the offsets last, in
    one transaction when use_transaction. The counts of what it added are taken before the offsets move and
    returned at the end (variables named batch_*: the emulator would also substitute a variable into a column of
    the same name, and ingestion_runs has loaded and dead_lettered columns). With attempt_sql (ingest/attempts.py), the attempt's ingestion_runs row then counts the
    batch, in the same script (a committed batch is never left out of it).
    The statements stand at the top level, not indented under the {% if %} that includes them (for sqlfluff):
-- sqlfluff:indentation:template_blocks_indent:False
-#}
{% from "_macros/ingest.sql" import new_messages with context -%}
DECLARE batch_loaded INT64 DEFAULT 0;
DECLARE batch_dead_lettered INT64 DEFAULT 0;
{% if use_transaction -%}
BEGIN TRANSACTION;
{% endif -%}
{% if load_events -%}
SET batch_loaded = (SELECT COUNT(*) {{ new_messages(staging_events) }});
{% include "events/ingest_insert.sql" %}
{% include "live_event_counts/ingest_insert.sql" %}
{% endif -%}
{% if load_dead_letters -%}
SET batch_dead_lettered = (SELECT COUNT(*) {{ new_messages(staging_dlq) }});
{% include "events_dlq/ingest_insert.sql" %}
{% endif -%}
{% include "ingestion_offsets/merge.sql" %}
{% if attempt_sql -%}
{{ attempt_sql }};
{% endif -%}
{% if use_transaction -%}
COMMIT TRANSACTION;
{% endif -%}
SELECT
    batch_loaded AS loaded,
    batch_dead_lettered AS dead_lettered;
