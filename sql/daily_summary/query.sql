-- daily_summary for day D = {{ ds }}: one row from partition D of user_lifetime_stats (who is active on which of the
-- last 28 days, who is new, lifetime revenue) and partition D of user_daily_metrics (the day's activity). No row
-- when nobody has been seen up to D. Columns in the order of schema.sql (inserted positionally).
-- FLOAT64 sums and means go through NUMERIC (exact decimal): a float sum depends on the order of its rows, and
-- a re-run rewrites user_daily_metrics and user_lifetime_stats in another order, so a re-run of D must not move
-- the last digit of the revenue.
WITH players AS (
    SELECT
        COUNTIF(days_seen_bits & 1 != 0) AS dau,
        COUNTIF(days_seen_bits & 127 != 0) AS wau,  -- bits 0-6: D-6 .. D
        COUNTIF(days_seen_bits & 268435455 != 0) AS mau,  -- bits 0-27: D-27 .. D
        COUNTIF(first_seen_date = DATE '{{ ds }}') AS new_players,
        COUNT(*) AS total_players,
        COUNTIF(first_purchase_date = DATE '{{ ds }}') AS new_payers,
        CAST(COALESCE(SUM(CAST(revenue_usd AS NUMERIC)), 0) AS FLOAT64) AS lifetime_revenue_usd
    FROM `{{ project }}.{{ dataset }}.user_lifetime_stats`
    WHERE `date` = DATE '{{ ds }}'
),

activity AS (
    SELECT
        COUNTIF(purchases > 0) AS paying_players,
        CAST(COALESCE(SUM(CAST(revenue_usd AS NUMERIC)), 0) AS FLOAT64) AS revenue_usd,
        COALESCE(SUM(purchases), 0) AS purchases,
        AVG(sessions) AS sessions_per_player,
        CAST(AVG(CAST(playtime_minutes AS NUMERIC)) AS FLOAT64) AS playtime_minutes_per_player,
        COALESCE(SUM(levels_completed), 0) AS levels_completed
    FROM `{{ project }}.{{ dataset }}.user_daily_metrics`
    WHERE `date` = DATE '{{ ds }}' AND user_id IS NOT NULL
)

SELECT
    DATE '{{ ds }}' AS `date`,
    p.dau,
    p.wau,
    p.mau,
    IF(p.mau = 0, NULL, p.dau / p.mau) AS stickiness,
    p.new_players,
    p.dau - p.new_players AS returning_players,
    p.total_players,
    a.paying_players,
    p.new_payers,
    a.revenue_usd,
    a.purchases,
    IF(p.dau = 0, NULL, a.revenue_usd / p.dau) AS arpdau,
    a.sessions_per_player,
    a.playtime_minutes_per_player,
    a.levels_completed,
    p.lifetime_revenue_usd
FROM players AS p
CROSS JOIN activity AS a
WHERE p.total_players > 0
