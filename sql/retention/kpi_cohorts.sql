{#- The retention rows measured on the days first_day to last_day (their partitions only: a row (C, N) is in
    partition C + N), every platform: the "Game KPIs" page's retention by cohort (kpi_ui/snapshot.py). The last 30
    days hold the D1 rows of the cohorts of 31 to 2 days ago and the D30 rows of those of 60 to 31 days ago.
    Sample values for sqlfluff (kpi_ui/snapshot.py passes the real ones): -#}
-- sqlfluff:templater:jinja:context:first_day:2025-12-03
-- sqlfluff:templater:jinja:context:last_day:2026-01-01
SELECT
    cohort_date,
    day_n,
    platform,
    cohort_size,
    retained_users,
    retention_rate
FROM `{{ project }}.{{ dataset }}.retention`
WHERE `date` BETWEEN DATE({{ first_day | sql_string }}) AND DATE({{ last_day | sql_string }})
ORDER BY cohort_date, day_n, platform
