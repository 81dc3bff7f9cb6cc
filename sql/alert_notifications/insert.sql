{#- New notifications into the outbox; an id already there (created by an earlier run of the same evaluation) adds
    nothing. The look-up reads the partitions since `since` (the pending window of alert_store.py). -#}
{% from "alert_state/_values.sql" import string_or_null -%}
INSERT INTO `{{ project }}.{{ dataset }}.alert_notifications` (
    notification_id, rule, subject, kind, severity, message, runbook_url, created_at
)
SELECT
    s.notification_id,
    s.rule,
    s.subject,
    s.kind,
    s.severity,
    s.message,
    s.runbook_url,
    s.created_at
FROM (
    {%- for n in notifications %}
        SELECT
            {{ n.notification_id | sql_string }} AS notification_id,
            {{ n.rule | sql_string }} AS rule,
            {{ n.subject | sql_string }} AS subject,
            {{ n.kind | sql_string }} AS kind,
            {{ string_or_null(n.severity) }} AS severity,
            {{ string_or_null(n.message) }} AS message,
            {{ string_or_null(n.runbook_url) }} AS runbook_url,
            TIMESTAMP {{ n.created_at | sql_string }} AS created_at
        {%- if not loop.last %}
            UNION ALL
        {%- endif %}
    {%- endfor %}
) AS s
WHERE NOT EXISTS (
    SELECT 1 FROM `{{ project }}.{{ dataset }}.alert_notifications` AS t
    WHERE
        DATE(t.created_at) >= DATE(TIMESTAMP {{ since | sql_string }})
        AND t.notification_id = s.notification_id
);
