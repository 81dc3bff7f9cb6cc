-- severity: fail
-- description: share of the day's messages that were dead-lettered is above dlq_share_fail
{% from '_macros/checks.sql' import dlq_share with context -%}
-- Share = DLQ rows with DATE(failed_at) = D / (events with event_date = D + those DLQ rows).
{% call dlq_share('fail_above', dlq_share_fail) -%}
SELECT COUNT(*)
FROM `{{ project }}.{{ dataset }}.events`
WHERE event_date = DATE '{{ ds }}'
{%- endcall %}
