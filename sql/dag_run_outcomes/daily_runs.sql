{#- The latest finished run of the daily DAG for each day D from first_day to last_day (the health page's last
    7 days, health/snapshot.py). A run of D finishes after D ends, so only partitions from first_day to now are read.
    Sample values for sqlfluff (health/snapshot.py passes the real ones): -#}
-- sqlfluff:templater:jinja:context:finished_since:2025-12-26
-- sqlfluff:templater:jinja:context:now:2026-01-02
-- sqlfluff:templater:jinja:context:dag_id:game_analytics_daily
-- sqlfluff:templater:jinja:context:first_day:2025-12-26
-- sqlfluff:templater:jinja:context:last_day:2026-01-01
SELECT
    day,
    state,
    run_id,
    failed_tasks,
    finished_at
FROM `{{ project }}.{{ dataset }}.dag_run_outcomes`
WHERE
    finished_at BETWEEN TIMESTAMP({{ finished_since | sql_string }}) AND TIMESTAMP({{ now | sql_string }})
    AND dag_id = {{ dag_id | sql_string }}
    AND day BETWEEN DATE({{ first_day | sql_string }}) AND DATE({{ last_day | sql_string }})
QUALIFY ROW_NUMBER() OVER (PARTITION BY day ORDER BY finished_at DESC, run_id DESC) = 1
ORDER BY day DESC
