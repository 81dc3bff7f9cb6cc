{#- Nullable values inlined into the alert scripts (a script cannot take query parameters on the emulator). A float
    goes through its text so that inf and nan are valid too: CAST('inf' AS FLOAT64).
-- sqlfluff:indentation:template_blocks_indent:False
-#}
{% macro timestamp_or_null(value) -%}
{% if value is none %}NULL{% else %}TIMESTAMP {{ value | sql_string }}{% endif %}
{%- endmacro %}
{% macro float_or_null(value) -%}
{% if value is none %}NULL{% else %}CAST({{ value | string | sql_string }} AS FLOAT64){% endif %}
{%- endmacro %}
{% macro string_or_null(value) -%}
{% if value is none %}NULL{% else %}{{ value | sql_string }}{% endif %}
{%- endmacro %}
