{#- One ingestion attempt's row (ingest/attempts.py), MERGEd on (run_id, try_number, shard): run by each batch's
    script (sql/ingest_batch.sql, with what the batch appended: a batch that committed is counted, whatever kills
    the process next), then by the attempt as it ends (success, or failed with its error). The same key from a
    later start (a re-run under the same run id and try) replaces the row; within one start the counts only grow
    (GREATEST: the end's write never undoes a batch the script counted). The target is bounded to rows finished
    since `since` (the attempt's start less a day); values arrive as SQL literals (warehouse/rows.py: sql_literal),
    or expressions of the batch script's variables, in the table's column order. -#}
{% from '_macros/rows.sql' import literal_rows -%}
{% set counts = ["consumed", "loaded", "duplicates", "dead_lettered", "already_dead_lettered"] -%}
MERGE `{{ project }}.{{ dataset }}.ingestion_runs` AS T
USING (
    {{- literal_rows(rows) }}
) AS S
    ON
        T.run_id = S.run_id
        AND T.try_number = S.try_number
        AND COALESCE(T.shard, 0) = S.shard
        AND T.finished_at >= TIMESTAMP {{ since | sql_string }}
WHEN MATCHED THEN
    -- noqa: disable=LT02
    UPDATE SET
    {%- for column in rows[0] | reject("in", ["run_id", "try_number", "shard"]) %}
        {%- if column in counts %}
        {{ column }} = IF(
            T.started_at = S.started_at, GREATEST(COALESCE(T.{{ column }}, 0), S.{{ column }}), S.{{ column }}
        )
        {%- else %}
        {{ column }} = S.{{ column }}
        {%- endif %}{{ "," if not loop.last }}
    {%- endfor %}
-- noqa: enable=LT02
WHEN NOT MATCHED THEN
    INSERT ({{ rows[0] | join(", ") }})
    VALUES (S.{{ rows[0] | join(", S.") }})
