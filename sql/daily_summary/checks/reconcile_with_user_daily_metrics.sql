-- severity: fail
-- description: dau, paying players, purchases, revenue and completions must equal the sums over D's user_daily_metrics
{% from '_macros/checks.sql' import reconcile_with_events with context -%}
{% call reconcile_with_events(
    'daily_summary', ['dau', 'paying_players', 'purchases', 'revenue_usd', 'levels_completed'],
    tolerances={'revenue_usd': 0.01}
) -%}
SELECT
    COUNT(*) AS dau,
    COUNTIF(purchases > 0) AS paying_players,
    COALESCE(SUM(purchases), 0) AS purchases,
    COALESCE(SUM(revenue_usd), 0) AS revenue_usd,
    COALESCE(SUM(levels_completed), 0) AS levels_completed
FROM `{{ project }}.{{ dataset }}.user_daily_metrics`
WHERE `date` = DATE '{{ ds }}' AND user_id IS NOT NULL
{%- endcall %}
