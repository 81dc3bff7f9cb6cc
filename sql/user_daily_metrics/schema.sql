-- Activity per player and day; definitions in shared spec metrics.md.
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.user_daily_metrics` (
    user_id STRING NOT NULL,
    `date` DATE NOT NULL,
    sessions INT64,
    events INT64,
    levels_played INT64,
    levels_completed INT64,
    playtime_minutes FLOAT64,
    purchases INT64,
    revenue_usd FLOAT64,
    best_score INT64
)
PARTITION BY `date`
CLUSTER BY user_id
