{% from '_macros/json_params.sql' import json_text, number_literal -%}
-- revenue_daily_metrics for day D = {{ ds }}: one row per (platform, country) seen on D, NULL grouped as 'unknown'.
-- Definitions: shared spec metrics.md. Columns are in the order of revenue_daily_metrics/schema.sql (the DAG
-- inserts positionally).
--
-- A user seen on two platforms (or countries) on D is counted once in each group, because users are counted
-- per group (COUNT DISTINCT inside the group), not assigned to a single group.
WITH day_events AS (
    SELECT
        user_id,
        event_type,
        COALESCE(platform, 'unknown') AS platform,
        COALESCE(country, 'unknown') AS country,
        -- price_usd is a JSON number (validation rejects purchases without one); number_literal reads only a number
        -- literal, so a wrongly typed value is NULL instead of a string cast to a number. Read for purchases only:
        -- parsing the other 90 % of the day's parameters would be the query's main cost.
        IF(event_type = 2001, {{ json_text('price_usd') }}, NULL) AS price_usd_text
    FROM `{{ project }}.{{ dataset }}.events`
    WHERE event_date = DATE '{{ ds }}'
),

per_group AS (
    SELECT
        platform,
        country,
        COUNT(DISTINCT user_id) AS dau,
        -- Any 2001 event makes a paying user, a zero-priced purchase too.
        COUNT(DISTINCT IF(event_type = 2001, user_id, NULL)) AS paying_users,
        COUNTIF(event_type = 2001) AS purchases,
        COALESCE(SUM({{ number_literal('price_usd_text') }}), 0) AS revenue_usd
    FROM day_events
    GROUP BY platform, country
)

SELECT
    DATE '{{ ds }}' AS `date`,
    platform,
    country,
    dau,
    paying_users,
    purchases,
    revenue_usd,
    revenue_usd / dau AS arpdau,  -- dau >= 1: every group comes from at least one event
    SAFE_DIVIDE(revenue_usd, paying_users) AS arppu,  -- NULL when paying_users = 0
    paying_users / dau AS conversion_rate
FROM per_group
