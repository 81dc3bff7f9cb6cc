-- user_daily_metrics for day D = {{ ds }}: one row per user_id with at least one event on D.
-- Definitions: shared spec metrics.md. Columns are in the order of user_daily_metrics/schema.sql (the DAG inserts
-- positionally).
--
-- Typed parameters: a missing or wrongly typed value is NULL. JSON_VALUE alone would turn the JSON string "12"
-- into 12, so a value is read only when its JSON text (TO_JSON_STRING) is a literal of the right kind: an integer
-- literal for ints (30, not "30" or 30.0), a number literal for price_usd.
WITH day_events AS (
    SELECT
        user_id,
        session_id,
        event_type,
        IF(
            REGEXP_CONTAINS(TO_JSON_STRING(JSON_QUERY(parameters, '$.level_id')), r'^-?[0-9]+$'),
            SAFE_CAST(JSON_VALUE(parameters, '$.level_id') AS INT64),
            NULL
        ) AS level_id,
        IF(
            REGEXP_CONTAINS(TO_JSON_STRING(JSON_QUERY(parameters, '$.score')), r'^-?[0-9]+$'),
            SAFE_CAST(JSON_VALUE(parameters, '$.score') AS INT64),
            NULL
        ) AS score,
        -- duration_sec is an int >= 0: a negative value is as wrong as a string (no minus sign allowed).
        IF(
            REGEXP_CONTAINS(TO_JSON_STRING(JSON_QUERY(parameters, '$.duration_sec')), r'^[0-9]+$'),
            SAFE_CAST(JSON_VALUE(parameters, '$.duration_sec') AS INT64),
            NULL
        ) AS duration_sec,
        IF(
            REGEXP_CONTAINS(
                TO_JSON_STRING(JSON_QUERY(parameters, '$.price_usd')), r'^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$'
            ),
            SAFE_CAST(JSON_VALUE(parameters, '$.price_usd') AS FLOAT64),
            NULL
        ) AS price_usd
    FROM `{{ project }}.{{ dataset }}.events`
    WHERE event_date = DATE '{{ ds }}'
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
