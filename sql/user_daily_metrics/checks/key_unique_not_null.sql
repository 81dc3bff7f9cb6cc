-- severity: fail
-- description: user_daily_metrics must hold exactly one row per non-NULL user_id for the day
{% from '_macros/checks.sql' import key_unique_not_null with context -%}
{{ key_unique_not_null('user_daily_metrics', ['user_id']) }}
