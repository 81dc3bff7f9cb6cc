{#- One successful ingestion run's row per shard (ingest/run.py through health/records.py), MERGEd on (run_id, shard):
    a retried task replaces the row of its shard. The target is bounded to rows finished since `since` (the run's
    start less a day: every earlier try of the run finished after it); values arrive as SQL literals
    (health/records.py: sql_literal), in the table's column order. -#}
{% from '_macros/rows.sql' import literal_rows -%}
MERGE `{{ project }}.{{ dataset }}.ingestion_runs` AS T
USING (
    {{- literal_rows(rows) }}
) AS S
    ON
        T.run_id = S.run_id
        AND COALESCE(T.shard, 0) = S.shard
        AND T.finished_at >= TIMESTAMP {{ since | sql_string }}
WHEN MATCHED THEN
    UPDATE SET  -- noqa: LT02
    {%- for column in rows[0] | reject("in", ["run_id", "shard"]) %}
        {{ column }} = S.{{ column }}{{ "," if not loop.last }}  -- noqa: LT02
    {%- endfor %}
WHEN NOT MATCHED THEN
    INSERT ({{ rows[0] | join(", ") }})
    VALUES (S.{{ rows[0] | join(", S.") }})
