{% from '_macros/json_params.sql' import json_int -%}
-- level_metrics for day D = {{ ds }}: one row per level_id with at least one level event (1001, 1002, 1003) on D.
-- Definitions: shared spec metrics.md. Columns are in the order of level_metrics/schema.sql (the DAG inserts
-- positionally).
--
-- Typed parameters (json_int, sql/_macros/json_params.sql): a missing or wrongly typed value is NULL. An integer
-- is read only when its JSON text is an integer literal: this rejects strings ("12", "abc"), fractions (12.5),
-- booleans, arrays, objects and JSON null.
WITH level_events AS (
    SELECT
        event_id,
        user_id,
        event_type,
        `timestamp`,
        {{ json_int('level_id') }} AS level_id,
        {{ json_int('moves_used') }} AS moves_used,
        {{ json_int('time_seconds') }} AS time_seconds,
        -- TRUE only for a JSON array with at least one element; a missing key, JSON null, a string or an object is
        -- FALSE. The CASE keeps JSON_QUERY_ARRAY away from non-arrays.
        CASE
            WHEN JSON_TYPE(JSON_QUERY(parameters, '$.boosters_used')) = 'array'
                THEN ARRAY_LENGTH(JSON_QUERY_ARRAY(parameters, '$.boosters_used')) > 0
            ELSE FALSE
        END AS used_boosters
    FROM `{{ project }}.{{ dataset }}.events`
    WHERE
        event_date = DATE '{{ ds }}'
        AND event_type IN (1001, 1002, 1003)
),

numbered AS (
    SELECT
        *,
        -- The n-th level_start of this user on this level on D (ties on timestamp broken by event_id); only
        -- meaningful for 1001 rows, hence event_type in the partition. n > 1 is a retry.
        ROW_NUMBER() OVER (
            PARTITION BY user_id, level_id, event_type
            ORDER BY `timestamp`, event_id
        ) AS nth_of_type
    FROM level_events
)

SELECT
    level_id,
    DATE '{{ ds }}' AS `date`,
    COUNTIF(event_type = 1001) AS attempts,
    COUNTIF(event_type = 1002) AS completions,
    COUNTIF(event_type = 1003) AS failures,
    -- Over finished attempts only; SAFE_DIVIDE gives NULL when there are no completions and no failures.
    SAFE_DIVIDE(COUNTIF(event_type = 1002), COUNTIF(event_type IN (1002, 1003))) AS pass_rate,
    -- Moves, time and percentiles over completions only; AVG and APPROX_QUANTILES ignore NULLs (and are NULL when
    -- every value is NULL).
    AVG(IF(event_type = 1002, moves_used, NULL)) AS avg_moves,
    AVG(IF(event_type = 1002, time_seconds, NULL)) AS avg_time_seconds,
    APPROX_QUANTILES(IF(event_type = 1002, moves_used, NULL), 100)[OFFSET(50)] AS p50_moves,
    APPROX_QUANTILES(IF(event_type = 1002, moves_used, NULL), 100)[OFFSET(95)] AS p95_moves,
    COUNT(DISTINCT user_id) AS unique_players,
    -- Share of finished attempts (1002 + 1003) that used at least one booster; NULL when there are none.
    SAFE_DIVIDE(
        COUNTIF(event_type IN (1002, 1003) AND used_boosters),
        COUNTIF(event_type IN (1002, 1003))
    ) AS booster_usage_rate,
    -- Share of level_starts that are not the user's first on this level on D; NULL when attempts = 0.
    SAFE_DIVIDE(COUNTIF(event_type = 1001 AND nth_of_type > 1), COUNTIF(event_type = 1001)) AS retry_rate
FROM numbered
GROUP BY level_id
