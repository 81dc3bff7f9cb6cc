-- severity: fail
-- description: attempts, completions and failures summed over levels must equal the day's 1001, 1002, 1003 events
{% from '_macros/checks.sql' import reconcile_with_events with context -%}
{% call reconcile_with_events('level_metrics', ['attempts', 'completions', 'failures']) -%}
SELECT
    COUNTIF(event_type = 1001) AS attempts,
    COUNTIF(event_type = 1002) AS completions,
    COUNTIF(event_type = 1003) AS failures
FROM `{{ project }}.{{ dataset }}.events`
WHERE event_date = DATE '{{ ds }}'
{%- endcall %}
