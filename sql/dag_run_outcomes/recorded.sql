{#- The recorded state of each run of the given DAGs that finished in (since, now]: what health/reconcile.py
    compares with the runs Airflow knows. Bounded to the partitions of the horizon (sample values: .sqlfluff). -#}
SELECT
    dag_id,
    run_id,
    state
FROM `{{ project }}.{{ dataset }}.dag_run_outcomes`
WHERE
    finished_at > TIMESTAMP({{ since | sql_string }})
    AND finished_at <= TIMESTAMP({{ now | sql_string }})
    AND dag_id IN (
        {%- for dag in dag_ids %}
            {{ dag | sql_string }}{{ "," if not loop.last }}
        {%- endfor %}
    )
QUALIFY ROW_NUMBER() OVER (PARTITION BY dag_id, run_id ORDER BY finished_at DESC) = 1
