{% from '_macros/json_params.sql' import json_text, int_literal -%}
-- level_metrics for day D = {{ ds }}: one row per level_id with at least one level event (1001, 1002, 1003) on D.
-- Definitions: shared spec metrics.md. Columns are in the order of level_metrics/schema.sql (the DAG inserts
-- positionally).
--
-- Typed parameters (sql/_macros/json_params.sql): a missing or wrongly typed value is NULL. An integer is read only
-- when its JSON text is an integer literal: this rejects strings ("12", "abc"), fractions (12.5), booleans, arrays,
-- objects and JSON null.
WITH level_params AS (
    -- Each parameter's JSON text, read only for the event types whose metrics use it: the typed reads are the
    -- query's main cost on a 10M-event day (moves and time: completions; boosters: finished attempts).
    SELECT
        user_id,
        event_type,
        {{ json_text('level_id') }} AS level_id_text,
        IF(event_type = 1002, {{ json_text('moves_used') }}, NULL) AS moves_used_text,
        IF(event_type = 1002, {{ json_text('time_seconds') }}, NULL) AS time_seconds_text,
        IF(event_type = 1001, NULL, {{ json_text('boosters_used') }}) AS boosters_used_text
    FROM `{{ project }}.{{ dataset }}.events`
    WHERE
        event_date = DATE '{{ ds }}'
        AND event_type IN (1001, 1002, 1003)
),

level_events AS (
    SELECT
        user_id,
        event_type,
        {{ int_literal('level_id_text') }} AS level_id,
        {{ int_literal('moves_used_text') }} AS moves_used,
        {{ int_literal('time_seconds_text') }} AS time_seconds,
        -- TRUE only for a JSON array with at least one element: the compact text of a non-empty array starts
        -- with '[' and is not '[]'. A missing key, JSON null, a string or an object is FALSE.
        COALESCE(STARTS_WITH(boosters_used_text, '[') AND boosters_used_text != '[]', FALSE) AS used_boosters
    FROM level_params
),

per_level AS (
    SELECT
        level_id,
        COUNTIF(event_type = 1001) AS attempts,
        COUNTIF(event_type = 1002) AS completions,
        COUNTIF(event_type = 1003) AS failures,
        -- Moves, time and percentiles over completions only (moves_used and time_seconds are NULL on other rows);
        -- AVG and APPROX_QUANTILES ignore NULLs and are NULL when every value is NULL. One quantile array serves
        -- both percentiles: each APPROX_QUANTILES is a sort on the emulator.
        AVG(moves_used) AS avg_moves,
        AVG(time_seconds) AS avg_time_seconds,
        APPROX_QUANTILES(moves_used, 100) AS moves_quantiles,
        COUNT(DISTINCT user_id) AS unique_players,
        COUNTIF(event_type IN (1002, 1003) AND used_boosters) AS finished_with_boosters,
        -- Each user with a level_start has exactly one first start, so retries = starts - users with a start.
        COUNT(DISTINCT IF(event_type = 1001, user_id, NULL)) AS starting_players
    FROM level_events
    GROUP BY level_id
)

SELECT
    level_id,
    DATE '{{ ds }}' AS `date`,
    attempts,
    completions,
    failures,
    -- Over finished attempts only; SAFE_DIVIDE gives NULL when there are no completions and no failures.
    SAFE_DIVIDE(completions, completions + failures) AS pass_rate,
    avg_moves,
    avg_time_seconds,
    moves_quantiles[SAFE_OFFSET(50)] AS p50_moves,
    moves_quantiles[SAFE_OFFSET(95)] AS p95_moves,
    unique_players,
    -- Share of finished attempts (1002 + 1003) that used at least one booster; NULL when there are none.
    SAFE_DIVIDE(finished_with_boosters, completions + failures) AS booster_usage_rate,
    -- Share of level_starts that are not the user's first on this level on D; NULL when attempts = 0.
    SAFE_DIVIDE(attempts - starting_players, attempts) AS retry_rate
FROM per_level
