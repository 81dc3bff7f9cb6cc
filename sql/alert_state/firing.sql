{#- The alerts firing now, one row per (rule, subject): the health page's list and /metrics' alert gauge
    (health/snapshot.py). alert_state is small and not partitioned. -#}
SELECT
    rule,
    subject,
    severity,
    value,
    threshold,
    message,
    fired_at
FROM `{{ project }}.{{ dataset }}.alert_state`
WHERE status = 'firing'
ORDER BY rule, subject
