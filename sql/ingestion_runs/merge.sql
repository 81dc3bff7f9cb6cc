{#- One successful ingestion run's row (ingest/run.py through health/records.py), MERGEd on run_id: a retried task
    replaces the row of its run. Values arrive as SQL literals (health/records.py: sql_literal), in the table's column order. -#}
{% from '_macros/rows.sql' import literal_rows -%}
MERGE `{{ project }}.{{ dataset }}.ingestion_runs` AS T
USING (
    {{- literal_rows(rows) }}
) AS S
    ON T.run_id = S.run_id
WHEN MATCHED THEN
    UPDATE SET  -- noqa: LT02
    {%- for column in rows[0] | reject("in", ["run_id"]) %}
        {{ column }} = S.{{ column }}{{ "," if not loop.last }}  -- noqa: LT02
    {%- endfor %}
WHEN NOT MATCHED THEN
    INSERT ({{ rows[0] | join(", ") }})
    VALUES (S.{{ rows[0] | join(", S.") }})
