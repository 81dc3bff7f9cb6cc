{#- Typed reads of the events' `parameters` JSON, shared by the metric queries, in two steps:

    1. json_text(key): the parameter's JSON text, e.g. `12`, `12.5`, `"12"`, `[]`, `null` (NULL when the key is
       missing). TO_JSON_STRING writes JSON without whitespace in BigQuery and on the emulator alike.
    2. int_literal(text) / number_literal(text): that text as INT64 / FLOAT64 when it is a literal of the right kind,
       else NULL. JSON_VALUE alone would turn the JSON string "12" into 12; the regex rejects strings, booleans,
       arrays, objects and JSON null (and, for integers, fractions such as 12.5).

    Queries select the texts in one CTE and convert them in the next: each key's part of the document is then
    parsed once, not once per function that reads it (on a 10M-event day this halves a metric query's time).
    The bodies are indented for a SELECT list at 8 spaces (where the metric queries use them).
-#}

{% macro json_text(key) %}TO_JSON_STRING(JSON_QUERY(parameters, '$.{{ key }}')){% endmacro %}

{#- An integer literal (30, not "30" or 30.0) as INT64; non_negative=true rejects a minus sign too. -#}
{% macro int_literal(text, non_negative=false) %}{% set pattern = '^[0-9]+$' if non_negative else '^-?[0-9]+$' -%}
IF(
            REGEXP_CONTAINS({{ text }}, r'{{ pattern }}'),
            SAFE_CAST({{ text }} AS INT64),
            NULL
        )
{%- endmacro %}

{#- A number literal (12, 12.5, 1e3, not "12.5") as FLOAT64. -#}
{% macro number_literal(text) -%}
IF(
            REGEXP_CONTAINS({{ text }}, r'^-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?$'),
            SAFE_CAST({{ text }} AS FLOAT64),
            NULL
        )
{%- endmacro %}
