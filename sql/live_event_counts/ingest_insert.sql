{#- The ingestion batch's live counts (ingest/loader.py; run by sql/ingest_batch.sql right after the batch's
    INSERT INTO events, before the offsets move): the same new messages of the same staging table (the
    new_messages macro), counted per 5-minute window, event type and platform and appended. Appended, not MERGEd:
    a batch adds its own rows and reads nothing of the table, so its cost follows the batch; the offset check that
    keeps a replay or a restarted batch from appending its events twice keeps it from counting them twice.
    price_usd is read as revenue_daily_metrics/query.sql reads it from `events`: the staging text parsed as the
    events insert parses it (PARSE_JSON, wide numbers rounded), then json_text / number_literal, for purchases only.
-#}
{% from "_macros/ingest.sql" import new_messages with context -%}
{% from "_macros/json_params.sql" import json_text, number_literal -%}
INSERT INTO `{{ project }}.{{ dataset }}.live_event_counts` (
    window_start, event_date, event_type, platform, events, purchases, revenue_usd, added_at
)
WITH batch_events AS (
    SELECT
        -- Floored to 5 minutes (300000000 microseconds; not by UNIX_SECONDS, which rounds on the emulator and
        -- would put 23:59:59.999 in the next day). 5-minute windows divide a day: 23:59:59.999 lands in 23:55.
        TIMESTAMP_MICROS(DIV(UNIX_MICROS(S.`timestamp`), 300000000) * 300000000) AS window_start,
        S.event_type,
        S.platform,
        IF(S.event_type = 2001, PARSE_JSON(S.parameters, wide_number_mode => 'round'), NULL) AS parameters
    {{ new_messages(staging_events) }}
),

priced AS (
    SELECT
        window_start,
        event_type,
        platform,
        IF(event_type = 2001, {{ json_text('price_usd') }}, NULL) AS price_usd_text
    FROM batch_events
)

SELECT
    window_start,
    DATE(window_start) AS event_date,
    event_type,
    platform,
    COUNT(*) AS events,
    COUNTIF(event_type = 2001) AS purchases,
    COALESCE(SUM({{ number_literal('price_usd_text') }}), 0) AS revenue_usd,
    CURRENT_TIMESTAMP() AS added_at
FROM priced
GROUP BY window_start, event_type, platform;
