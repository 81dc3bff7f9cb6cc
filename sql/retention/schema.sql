-- D1 / D7 / D30 retention by install cohort and first platform; definitions: shared spec metrics.md. Partitioned by
-- the day the rows were measured on (cohort_date + day_n), the partition a run of that day replaces.
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.retention` (
    `date` DATE NOT NULL,
    cohort_date DATE NOT NULL,
    day_n INT64 NOT NULL,
    platform STRING NOT NULL,
    cohort_size INT64 NOT NULL,
    retained_users INT64 NOT NULL,
    retention_rate FLOAT64 NOT NULL
)
PARTITION BY `date`
CLUSTER BY cohort_date
