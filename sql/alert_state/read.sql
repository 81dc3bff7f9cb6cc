{#- Every alert's state (one row per rule and subject; a small table): the lifecycle's input (health/alert_store.py).
    (A Jinja comment: after an SQL comment with an apostrophe the emulator misreads fractional timestamps.) -#}
SELECT
    rule,
    subject,
    status,
    severity,
    value,
    threshold,
    message,
    fired_at,
    resolved_at,
    last_notified_at,
    updated_at
FROM `{{ project }}.{{ dataset }}.alert_state`
