{% from '_macros/json_params.sql' import json_text, int_literal -%}
-- user_lifetime_stats for day D = {{ ds }}: partition D-1 carried forward with D's activity added. Reads one
-- partition of this table, one of user_daily_metrics and one of events (never the history): the cost follows the
-- number of players and one day of events. When partition D-1 is empty, D starts the history (every player of D
-- is new); whether D may start it is decided before this runs (daily/previous_day.py). Definitions: shared spec
-- metrics.md. Columns in the order of schema.sql (inserted positionally).
WITH previous AS (
    SELECT *
    FROM `{{ project }}.{{ dataset }}.user_lifetime_stats`
    WHERE `date` = DATE_SUB(DATE '{{ ds }}', INTERVAL 1 DAY)
),

new_players_first_events AS (
    -- The first event on D (by timestamp, then event_id) of each player not in D-1: a new player's platform and
    -- country. Only new players' events are ordered (an anti-join first): on a day of 10M events from mostly
    -- returning players, ordering them all was most of this query's time.
    SELECT
        e.user_id,
        e.platform,
        e.country,
        ROW_NUMBER() OVER (PARTITION BY e.user_id ORDER BY e.`timestamp`, e.event_id) AS nth
    FROM `{{ project }}.{{ dataset }}.events` AS e
    LEFT JOIN previous AS p ON e.user_id = p.user_id
    WHERE e.event_date = DATE '{{ ds }}' AND e.user_id IS NOT NULL AND p.user_id IS NULL
),

completion_texts AS (
    SELECT
        user_id,
        {{ json_text('level_id') }} AS level_id_text
    FROM `{{ project }}.{{ dataset }}.events`
    WHERE event_date = DATE '{{ ds }}' AND event_type = 1002 AND user_id IS NOT NULL
),

completed_levels AS (
    SELECT
        user_id,
        MAX({{ int_literal('level_id_text') }}) AS max_level_completed
    FROM completion_texts
    GROUP BY user_id
),

today AS (
    SELECT
        m.user_id,
        m.sessions,
        m.events,
        m.levels_completed,
        m.purchases,
        m.revenue_usd,
        m.best_score,
        f.platform AS first_platform,
        f.country AS first_country,
        c.max_level_completed
    FROM `{{ project }}.{{ dataset }}.user_daily_metrics` AS m
    LEFT JOIN new_players_first_events AS f ON m.user_id = f.user_id AND f.nth = 1
    LEFT JOIN completed_levels AS c ON m.user_id = c.user_id
    WHERE m.`date` = DATE '{{ ds }}' AND m.user_id IS NOT NULL
)

SELECT
    COALESCE(p.user_id, t.user_id) AS user_id,
    DATE '{{ ds }}' AS `date`,
    COALESCE(p.first_seen_date, DATE '{{ ds }}') AS first_seen_date,
    IF(p.user_id IS NOT NULL, p.first_platform, t.first_platform) AS first_platform,
    IF(p.user_id IS NOT NULL, p.first_country, t.first_country) AS first_country,
    IF(t.user_id IS NOT NULL, DATE '{{ ds }}', p.last_seen_date) AS last_seen_date,
    -- Shifted one day, bit 0 = active on D, 31 bits kept: a player away for 31 days has 0 again.
    ((COALESCE(p.days_seen_bits, 0) << 1) | IF(t.user_id IS NOT NULL, 1, 0)) & 2147483647 AS days_seen_bits,
    COALESCE(p.days_active, 0) + IF(t.user_id IS NOT NULL, 1, 0) AS days_active,
    COALESCE(p.sessions, 0) + COALESCE(t.sessions, 0) AS sessions,
    COALESCE(p.events, 0) + COALESCE(t.events, 0) AS events,
    COALESCE(p.levels_completed, 0) + COALESCE(t.levels_completed, 0) AS levels_completed,
    COALESCE(p.purchases, 0) + COALESCE(t.purchases, 0) AS purchases,
    COALESCE(p.revenue_usd, 0) + COALESCE(t.revenue_usd, 0) AS revenue_usd,
    -- GREATEST is NULL when either side is: the larger of the two, NULLs ignored.
    COALESCE(GREATEST(p.best_score, t.best_score), p.best_score, t.best_score) AS best_score,
    COALESCE(
        GREATEST(p.max_level_completed, t.max_level_completed), p.max_level_completed, t.max_level_completed
    ) AS max_level_completed,
    COALESCE(p.first_purchase_date, IF(t.purchases > 0, DATE '{{ ds }}', NULL)) AS first_purchase_date
FROM previous AS p
FULL OUTER JOIN today AS t ON p.user_id = t.user_id
