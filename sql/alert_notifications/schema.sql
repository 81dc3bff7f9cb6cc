-- The alerts' outbox and history: each notification is written here before it is sent, then marked delivered
-- (or given its delivery error), so a killed health run's notification is sent by the next run, once.
-- notification_id is deterministic ("<rule>|<subject>|<fired_at iso>|<kind>[|<n>]"): a re-run never adds a second.
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.alert_notifications` (
    notification_id STRING NOT NULL,
    rule STRING,
    subject STRING,
    kind STRING,
    severity STRING,
    message STRING,
    runbook_url STRING,
    created_at TIMESTAMP NOT NULL,
    delivered_at TIMESTAMP,
    delivery_error STRING
)
PARTITION BY DATE(created_at)
