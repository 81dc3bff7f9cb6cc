-- severity: fail
-- description: user_daily_metrics has no rows for the day although events holds rows for it
{% from '_macros/checks.sql' import not_empty with context -%}
{% call not_empty('user_daily_metrics') -%}
SELECT COUNT(*)
FROM `{{ project }}.{{ dataset }}.events`
WHERE event_date = DATE '{{ ds }}'
{%- endcall %}
