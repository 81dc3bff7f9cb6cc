-- severity: fail
-- description: daily_summary must hold exactly one row per date for the day, none NULL
{% from '_macros/checks.sql' import key_unique_not_null with context -%}
{{ key_unique_not_null('daily_summary', ['date']) }}
