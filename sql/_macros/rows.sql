{#- Rows given as SQL literals, as a query: `USING ({{ literal_rows(rows) }}) AS S` in a MERGE. Each row is a
    mapping column -> SQL literal, in the table's column order (warehouse/rows.py: literal_rows). The callers'
    rendered statements are linted; this file alone renders no statement sqlfluff can lay out. -#}
-- noqa: disable=LT02
{% macro literal_rows(rows) -%}
    {%- for row in rows %}
        SELECT
        {%- for column, value in row.items() %}
                {{ value }} AS `{{ column }}`{{ "," if not loop.last }}
        {%- endfor %}
        {%- if not loop.last %}
            UNION ALL
        {%- endif %}
    {%- endfor %}
{%- endmacro %}
