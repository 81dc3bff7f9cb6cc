{#- Every check's result for the days from first_day to last_day (their partitions only): the health page's
    daily runs table, with the messages and offending values of warn and fail results (health/snapshot.py).
    Sample values for sqlfluff (health/snapshot.py passes the real ones): -#}
-- sqlfluff:templater:jinja:context:first_day:2025-12-26
-- sqlfluff:templater:jinja:context:last_day:2026-01-01
SELECT
    day,
    table_name,
    check_name,
    severity,
    status,
    message,
    offending_rows,
    offending_values
FROM `{{ project }}.{{ dataset }}.check_results`
WHERE day BETWEEN DATE({{ first_day | sql_string }}) AND DATE({{ last_day | sql_string }})
ORDER BY day DESC, table_name ASC, check_name ASC
