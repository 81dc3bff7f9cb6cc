{#- How one run of a pipeline DAG ended (its DAG-level callbacks, health/records.py), MERGEd on (dag_id, run_id):
    a callback that runs again replaces the row, if the earlier one finished since `since` (its finish less
    OUTCOME_REPLACE_HORIZON: the bound on the partitions read; an outcome recorded again later adds a row, which
    the readers, newest per DAG or distinct successful days, count once). Values arrive as SQL literals (health/records.py: sql_literal), in the table's column order. -#}
{% from '_macros/rows.sql' import literal_rows -%}
MERGE `{{ project }}.{{ dataset }}.dag_run_outcomes` AS T
USING (
    {{- literal_rows(rows) }}
) AS S
    ON
        T.dag_id = S.dag_id
        AND T.run_id = S.run_id
        AND T.finished_at >= TIMESTAMP {{ since | sql_string }}
WHEN MATCHED THEN
    UPDATE SET  -- noqa: LT02
    {%- for column in rows[0] | reject("in", ["dag_id", "run_id"]) %}
        {{ column }} = S.{{ column }}{{ "," if not loop.last }}  -- noqa: LT02
    {%- endfor %}
WHEN NOT MATCHED THEN
    INSERT ({{ rows[0] | join(", ") }})
    VALUES (S.{{ rows[0] | join(", S.") }})
