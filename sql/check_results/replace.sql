{#- Every check's result of one table for day D (daily/quality.py: record_check_results), replacing the rows of
    that (day, table_name) in one statement: a rerun of the checks never duplicates and never leaves half. Values arrive as SQL literals (warehouse/rows.py: sql_literal), in the table's column order. -#}
{% from '_macros/rows.sql' import literal_rows -%}
MERGE `{{ project }}.{{ dataset }}.check_results` AS T
USING (
    {{- literal_rows(rows) }}
) AS S
    ON FALSE
WHEN NOT MATCHED BY SOURCE AND T.day = DATE {{ day | sql_string }} AND T.table_name = {{ table_name | sql_string }} THEN
    DELETE
WHEN NOT MATCHED THEN
    INSERT ({{ rows[0] | join(", ") }})
    VALUES (S.{{ rows[0] | join(", S.") }})
