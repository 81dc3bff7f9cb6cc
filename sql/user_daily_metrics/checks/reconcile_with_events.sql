-- severity: fail
-- description: events, levels_completed and purchases summed over users must equal the day's counts in events
{% from '_macros/checks.sql' import reconcile_with_events with context -%}
{% call reconcile_with_events('user_daily_metrics', ['events', 'levels_completed', 'purchases']) -%}
SELECT
    COUNT(*) AS events,
    COUNTIF(event_type = 1002) AS levels_completed,
    COUNTIF(event_type = 2001) AS purchases
FROM `{{ project }}.{{ dataset }}.events`
WHERE event_date = DATE '{{ ds }}'
{%- endcall %}
