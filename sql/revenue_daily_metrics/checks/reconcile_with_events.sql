-- severity: fail
-- description: revenue_usd summed over groups must match the day's price_usd within 0.01, purchases its 2001 events
{% from '_macros/checks.sql' import reconcile_with_events with context -%}
{% call reconcile_with_events(
    'revenue_daily_metrics', ['purchases', 'revenue_usd'], tolerances={'revenue_usd': 0.01}
) -%}
SELECT
    COUNTIF(event_type = 2001) AS purchases,
    COALESCE(
        SUM(IF(event_type = 2001, SAFE_CAST(JSON_VALUE(parameters, '$.price_usd') AS FLOAT64), NULL)), 0
    ) AS revenue_usd
FROM `{{ project }}.{{ dataset }}.events`
WHERE event_date = DATE '{{ ds }}'
{%- endcall %}
