{#- One health run's measurements (health/measure.py: record_measurements), replacing the rows at its instant
    now_ts in one statement: a retried run writes its rows once. Values arrive as SQL literals. -#}
MERGE `{{ project }}.{{ dataset }}.health_measurements` AS T
USING (
    {%- for row in rows %}
        SELECT
        {%- for column, value in row.items() %}
                {{ value }} AS `{{ column }}`{{ "," if not loop.last }}
        {%- endfor %}
        {%- if not loop.last %}
            UNION ALL
        {%- endif %}
    {%- endfor %}
) AS S
    ON FALSE
WHEN NOT MATCHED BY SOURCE AND T.measured_at = {{ now_ts }} THEN
    DELETE
WHEN NOT MATCHED THEN
    INSERT ({{ rows[0] | join(", ") }})
    VALUES (S.{{ rows[0] | join(", S.") }})
