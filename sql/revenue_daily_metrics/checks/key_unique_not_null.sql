-- severity: fail
-- description: revenue_daily_metrics must hold exactly one row per non-NULL (platform, country) for the day
{% from '_macros/checks.sql' import key_unique_not_null with context -%}
{{ key_unique_not_null('revenue_daily_metrics', ['platform', 'country']) }}
