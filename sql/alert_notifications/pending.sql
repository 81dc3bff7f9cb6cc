{#- The notifications not delivered yet, created since `since` (the partitions of the last days only), oldest first:
    what each health run delivers (health/alert_store.py). An older undelivered one is given up (its row stays).
    (A Jinja comment: after an SQL comment with an apostrophe the emulator misreads fractional timestamps.) -#}
SELECT
    notification_id,
    rule,
    subject,
    kind,
    severity,
    message,
    runbook_url,
    created_at,
    delivery_error
FROM `{{ project }}.{{ dataset }}.alert_notifications`
WHERE
    DATE(created_at) >= DATE(TIMESTAMP {{ since | sql_string }})
    AND created_at >= TIMESTAMP {{ since | sql_string }}
    AND delivered_at IS NULL
ORDER BY created_at, notification_id
