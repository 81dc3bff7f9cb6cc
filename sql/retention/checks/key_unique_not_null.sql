-- severity: fail
-- description: retention must hold exactly one row per cohort_date, day_n, platform for the day, none NULL
{% from '_macros/checks.sql' import key_unique_not_null with context -%}
{{ key_unique_not_null('retention', ['cohort_date', 'day_n', 'platform']) }}
