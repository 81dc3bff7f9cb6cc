-- One row per (rule, subject) that has ever fired: the alert lifecycle's memory (health/lifecycle.py), so a
-- restarted scheduler or a retried health task neither loses nor repeats a notification. Small; not partitioned.
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.alert_state` (
    rule STRING NOT NULL,
    subject STRING NOT NULL,
    status STRING NOT NULL,
    severity STRING,
    value FLOAT64,
    threshold FLOAT64,
    message STRING,
    fired_at TIMESTAMP,
    resolved_at TIMESTAMP,
    last_notified_at TIMESTAMP,
    updated_at TIMESTAMP NOT NULL
)
