{#- The alerts of one status, one row per (rule, subject): the firing ones for the health page's list and /metrics'
    alert gauge, the expired ones (older than the horizon, not fixed) for the page's list of what is older
    (health/snapshot.py). alert_state is small and not partitioned. -#}
-- sqlfluff:templater:jinja:context:status:firing
SELECT
    rule,
    subject,
    severity,
    value,
    threshold,
    message,
    fired_at
FROM `{{ project }}.{{ dataset }}.alert_state`
WHERE status = {{ status | sql_string }}
ORDER BY rule, subject
