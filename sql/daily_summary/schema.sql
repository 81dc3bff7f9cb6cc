-- One row per day; definitions: shared spec metrics.md ("daily_summary").
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.daily_summary` (
    `date` DATE NOT NULL,
    dau INT64 NOT NULL,
    wau INT64 NOT NULL,
    mau INT64 NOT NULL,
    stickiness FLOAT64,
    new_players INT64 NOT NULL,
    returning_players INT64 NOT NULL,
    total_players INT64 NOT NULL,
    paying_players INT64 NOT NULL,
    new_payers INT64 NOT NULL,
    revenue_usd FLOAT64 NOT NULL,
    purchases INT64 NOT NULL,
    arpdau FLOAT64,
    sessions_per_player FLOAT64,
    playtime_minutes_per_player FLOAT64,
    levels_completed INT64 NOT NULL,
    lifetime_revenue_usd FLOAT64 NOT NULL
)
PARTITION BY `date`
