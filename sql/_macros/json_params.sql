{#- Typed reads of the events' `parameters` JSON, shared by the metric queries.

    A missing or wrongly typed value is NULL. JSON_VALUE alone would turn the JSON string "12" into 12, so a value
    is read only when its JSON text (TO_JSON_STRING) is a literal of the right kind; this rejects strings ("12",
    "abc"), booleans, arrays, objects and JSON null.

    The bodies are indented for a SELECT list at 8 spaces (where the metric queries use them), so the rendered SQL
    reads as if written out.
-#}

{#- An integer literal (30, not "30" or 30.0) as INT64; non_negative=true rejects a minus sign too. -#}
{% macro json_int(key, non_negative=false) %}{% set pattern = '^[0-9]+$' if non_negative else '^-?[0-9]+$' -%}
IF(
            REGEXP_CONTAINS(TO_JSON_STRING(JSON_QUERY(parameters, '$.{{ key }}')), r'{{ pattern }}'),
            SAFE_CAST(JSON_VALUE(parameters, '$.{{ key }}') AS INT64),
            NULL
        )
{%- endmacro %}

{#- A number literal (12, 12.5, 1e3, not "12.5") as FLOAT64. -#}
{% macro json_number(key) -%}
IF(
            REGEXP_CONTAINS(
                TO_JSON_STRING(JSON_QUERY(parameters, '$.{{ key }}')), r'^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$'
            ),
            SAFE_CAST(JSON_VALUE(parameters, '$.{{ key }}') AS FLOAT64),
            NULL
        )
{%- endmacro %}
