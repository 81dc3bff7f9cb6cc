-- The health DAG's measurements (health/measure.py), all rows of a run at measured_at = the run's now; a re-run
-- replaces the rows at that instant. The alert rules, the health page and /metrics read the latest ones.
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.health_measurements` (
    measured_at TIMESTAMP NOT NULL,
    metric STRING NOT NULL,
    subject STRING NOT NULL,
    value FLOAT64
)
PARTITION BY DATE(measured_at)
CLUSTER BY metric
