-- Revenue per platform and country and day; definitions in shared spec metrics.md.
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.revenue_daily_metrics` (
    `date` DATE NOT NULL,
    platform STRING NOT NULL,
    country STRING NOT NULL,
    dau INT64,
    paying_users INT64,
    purchases INT64,
    revenue_usd FLOAT64,
    arpdau FLOAT64,
    arppu FLOAT64,
    conversion_rate FLOAT64
)
PARTITION BY `date`
CLUSTER BY platform, country
