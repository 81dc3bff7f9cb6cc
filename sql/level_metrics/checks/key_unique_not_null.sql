-- severity: fail
-- description: level_metrics must hold exactly one row per non-NULL level_id for the day
{% from '_macros/checks.sql' import key_unique_not_null with context -%}
{{ key_unique_not_null('level_metrics', ['level_id']) }}
