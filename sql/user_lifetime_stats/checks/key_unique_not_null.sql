-- severity: fail
-- description: user_lifetime_stats must hold exactly one row per user_id for the day, none NULL
{% from '_macros/checks.sql' import key_unique_not_null with context -%}
{{ key_unique_not_null('user_lifetime_stats', ['user_id']) }}
