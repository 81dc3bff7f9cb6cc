-- severity: fail
-- description: level_metrics has no rows for the day although events holds level events (1001-1003) for it
{% from '_macros/checks.sql' import not_empty with context -%}
{% call not_empty('level_metrics', events_column='level_events_rows') -%}
SELECT COUNT(*)
FROM `{{ project }}.{{ dataset }}.events`
WHERE event_date = DATE '{{ ds }}' AND event_type IN (1001, 1002, 1003)
{%- endcall %}
