{#- The states one evaluation changed, keyed by (rule, subject); a row never goes back to an older updated_at. -#}
{% from "alert_state/_values.sql" import timestamp_or_null, float_or_null, string_or_null -%}
MERGE `{{ project }}.{{ dataset }}.alert_state` AS t
USING (
    {%- for s in states %}
        SELECT
            {{ s.rule | sql_string }} AS rule,
            {{ s.subject | sql_string }} AS subject,
            {{ s.status | sql_string }} AS status,
            {{ string_or_null(s.severity) }} AS severity,
            {{ float_or_null(s.value) }} AS value,
            {{ float_or_null(s.threshold) }} AS threshold,
            {{ string_or_null(s.message) }} AS message,
            {{ timestamp_or_null(s.fired_at) }} AS fired_at,
            {{ timestamp_or_null(s.resolved_at) }} AS resolved_at,
            {{ timestamp_or_null(s.last_notified_at) }} AS last_notified_at,
            {{ timestamp_or_null(s.updated_at) }} AS updated_at
        {%- if not loop.last %}
            UNION ALL
        {%- endif %}
    {%- endfor %}
) AS s
    ON t.rule = s.rule AND t.subject = s.subject
WHEN MATCHED AND t.updated_at <= s.updated_at THEN
    UPDATE SET
        status = s.status,
        severity = s.severity,
        value = s.value,
        threshold = s.threshold,
        message = s.message,
        fired_at = s.fired_at,
        resolved_at = s.resolved_at,
        last_notified_at = s.last_notified_at,
        updated_at = s.updated_at
WHEN NOT MATCHED THEN
    INSERT (
        rule, subject, status, severity, value, threshold, message, fired_at, resolved_at, last_notified_at, updated_at
    )
    VALUES (
        s.rule,
        s.subject,
        s.status,
        s.severity,
        s.value,
        s.threshold,
        s.message,
        s.fired_at,
        s.resolved_at,
        s.last_notified_at,
        s.updated_at
    );
