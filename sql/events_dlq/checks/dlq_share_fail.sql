-- severity: fail
-- description: share of the day's messages that were dead-lettered is above dlq_share_fail
{% from '_macros/checks.sql' import dlq_share with context -%}
-- Share = dead letters of D (by their event's day, else the day they failed) / (events of D + those dead letters).
{% call dlq_share('fail_above', dlq_share_fail) -%}
SELECT COUNT(*)
FROM `{{ project }}.{{ dataset }}.events`
WHERE event_date = DATE '{{ ds }}'
{%- endcall %}
