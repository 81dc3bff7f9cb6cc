{#- The alerts of one status, one row per (rule, subject): the firing ones for the health page's list and /metrics'
    alert gauge, the ones that expired since updated_since (older than the horizon, not fixed) for the page's list
    of what is older (health/snapshot.py). alert_state is small and not partitioned. -#}
-- sqlfluff:templater:jinja:context:status:expired
-- sqlfluff:templater:jinja:context:updated_since:2026-01-01
SELECT
    rule,
    subject,
    severity,
    value,
    threshold,
    message,
    fired_at
FROM `{{ project }}.{{ dataset }}.alert_state`
WHERE
    status = {{ status | sql_string }}
    {%- if updated_since %}
        AND updated_at >= TIMESTAMP({{ updated_since | sql_string }})
    {%- endif %}
ORDER BY rule, subject
