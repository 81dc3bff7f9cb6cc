{% from '_macros/json_params.sql' import json_text, int_literal, number_literal -%}
-- user_daily_metrics for day D = {{ ds }}: one row per user_id with at least one event on D.
-- Definitions: shared spec metrics.md. Columns are in the order of user_daily_metrics/schema.sql (the DAG inserts
-- positionally).
--
-- Typed parameters (sql/_macros/json_params.sql): a missing or wrongly typed value is NULL. A value is read only
-- when its JSON text is a literal of the right kind: an integer literal for ints (30, not "30" or 30.0), a number
-- literal for price_usd.
WITH day_params AS (
    -- Each parameter's JSON text, read only for the event type whose metric uses it: the same result, and on 10M
    -- events a day it halves the work (the typed reads are the query's main cost).
    SELECT
        user_id,
        session_id,
        event_type,
        IF(event_type = 1001, {{ json_text('level_id') }}, NULL) AS level_id_text,
        IF(event_type = 1002, {{ json_text('score') }}, NULL) AS score_text,
        IF(event_type = 3002, {{ json_text('duration_sec') }}, NULL) AS duration_sec_text,
        IF(event_type = 2001, {{ json_text('price_usd') }}, NULL) AS price_usd_text
    FROM `{{ project }}.{{ dataset }}.events`
    WHERE event_date = DATE '{{ ds }}'
),

day_events AS (
    SELECT
        user_id,
        session_id,
        event_type,
        {{ int_literal('level_id_text') }} AS level_id,
        {{ int_literal('score_text') }} AS score,
        -- duration_sec is an int >= 0: a negative value is as wrong as a string (no minus sign allowed).
        {{ int_literal('duration_sec_text', non_negative=true) }} AS duration_sec,
        {{ number_literal('price_usd_text') }} AS price_usd
    FROM day_params
)

SELECT
    user_id,
    DATE '{{ ds }}' AS `date`,
    COUNT(DISTINCT session_id) AS sessions,  -- COUNT(DISTINCT) skips NULL session_id
    COUNT(*) AS events,
    COUNT(DISTINCT IF(event_type = 1001, level_id, NULL)) AS levels_played,
    COUNTIF(event_type = 1002) AS levels_completed,
    -- Sum of session_end durations in minutes; 0 (not NULL) without any.
    COALESCE(SUM(IF(event_type = 3002, duration_sec, NULL)), 0) / 60.0 AS playtime_minutes,
    COUNTIF(event_type = 2001) AS purchases,
    COALESCE(SUM(IF(event_type = 2001, price_usd, NULL)), 0) AS revenue_usd,
    MAX(IF(event_type = 1002, score, NULL)) AS best_score  -- NULL without a completion (with a score)
FROM day_events
GROUP BY user_id
