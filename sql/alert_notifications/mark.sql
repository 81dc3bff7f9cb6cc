{#- One notification's delivery outcome: delivered (delivered_at, error cleared) or its error (still pending, retried
    by the next run). Its partition is the day of its created_at.
    (A Jinja comment: after an SQL comment with an apostrophe the emulator misreads fractional timestamps.) -#}
UPDATE `{{ project }}.{{ dataset }}.alert_notifications`
SET
    {%- if error is none %}
        delivered_at = TIMESTAMP {{ at | sql_string }},
        delivery_error = NULL
    {%- else %}
        delivery_error = {{ error | sql_string }}
    {%- endif %}
WHERE
    DATE(created_at) = DATE(TIMESTAMP {{ created_at | sql_string }})
    AND notification_id = {{ notification_id | sql_string }}
    AND delivered_at IS NULL
