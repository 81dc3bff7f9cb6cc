-- One row per player seen up to day D, in partition D; definitions: shared spec metrics.md ("Player state").
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.user_lifetime_stats` (
    user_id STRING NOT NULL,
    `date` DATE NOT NULL,
    first_seen_date DATE NOT NULL,
    first_platform STRING,
    first_country STRING,
    last_seen_date DATE NOT NULL,
    days_seen_bits INT64 NOT NULL,
    days_active INT64 NOT NULL,
    sessions INT64,
    events INT64,
    levels_completed INT64,
    purchases INT64,
    revenue_usd FLOAT64,
    best_score INT64,
    max_level_completed INT64,
    first_purchase_date DATE
)
PARTITION BY `date`
CLUSTER BY user_id
