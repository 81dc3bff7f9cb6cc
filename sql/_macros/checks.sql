{#- Data-quality check bodies shared by several sql/<table>/checks/*.sql files. Each check returns the offending
    rows (none = passed). Import them `with context`: they read project, dataset and ds from the caller.

    Where a check reads `events`, the caller passes that query as the body of a {% call %} block, so the scan and
    its partition filter (event_date = ...) stay written in the check file itself.
-#}

{#- Rows of `table` whose key is NULL or not unique for day ds. -#}
{% macro key_unique_not_null(table, keys) -%}
SELECT
    {% for key in keys -%}
    {{ key }},
    {% endfor -%}
    COUNT(*) AS row_count
FROM `{{ project }}.{{ dataset }}.{{ table }}`
WHERE `date` = DATE '{{ ds }}'
GROUP BY {{ keys | join(', ') }}
HAVING {% for key in keys %}{{ key }} IS NULL OR {% endfor %}COUNT(*) > 1
{%- endmacro %}

{#- One row when `table` has no rows for day ds although the caller's events count (a COUNT(*) query, the call
    block's body) is above 0; that count is output as `events_column`. -#}
{% macro not_empty(table, events_column='events_rows') -%}
WITH counts AS (
    SELECT
        (
            {{ caller() | trim | indent(12) }}
        ) AS {{ events_column }},
        (
            SELECT COUNT(*)
            FROM `{{ project }}.{{ dataset }}.{{ table }}`
            WHERE `date` = DATE '{{ ds }}'
        ) AS table_rows
)

SELECT
    {{ events_column }},
    table_rows
FROM counts
WHERE {{ events_column }} > 0 AND table_rows = 0
{%- endmacro %}

{#- One row when the share of day ds's messages that were dead-lettered is above `threshold`:
    dead letters of D / (the caller's events count for D, the call block's body, + those dead letters).
    A dead letter counts against its event's UTC day (event_date) when its timestamp could be read, else against
    the day it failed: ten days of replayed or backfilled messages are judged per day, not all on the day they
    were ingested. The scan stays within events_dlq's partitions (by failed_at) from D - 1 (an event may arrive up
    to an hour before its own timestamp) to D + 31 (older events are rejected as too old; such late ones count
    nowhere), so no check reads the whole table. The threshold is output as `threshold_column`.
-#}
{% macro dlq_share(threshold_column, threshold) -%}
WITH counts AS (
    SELECT
        (
            SELECT COUNT(*)
            FROM `{{ project }}.{{ dataset }}.events_dlq`
            WHERE
                DATE(failed_at) BETWEEN DATE_SUB(DATE '{{ ds }}', INTERVAL 1 DAY)
                AND DATE_ADD(DATE '{{ ds }}', INTERVAL 31 DAY)
                AND COALESCE(event_date, DATE(failed_at)) = DATE '{{ ds }}'
        ) AS dlq_rows,
        (
            {{ caller() | trim | indent(12) }}
        ) AS events_rows
)

SELECT
    dlq_rows,
    events_rows,
    dlq_rows / (dlq_rows + events_rows) AS dlq_share,
    CAST({{ threshold }} AS FLOAT64) AS {{ threshold_column }}
FROM counts
WHERE dlq_rows > 0 AND dlq_rows / (dlq_rows + events_rows) > {{ threshold }}
{%- endmacro %}

{#- The whole reconciliation check: the caller's query over `events` (the call block's body; one row, one column
    per measure) is compared with the same measures summed over `table` for day ds, and each measure whose two values
    differ is returned. With `tolerances` (measure -> allowed absolute difference, 0.0 when not listed) both values
    are compared as FLOAT64; without, they must be equal. -#}
{% macro reconcile_with_events(table, measures, tolerances=none) -%}
WITH from_events AS (
    {{ caller() | trim | indent(4) }}
),

from_table AS (
    SELECT {%- for measure in measures %}
        COALESCE(SUM({{ measure }}), 0) AS {{ measure }}{{ "," if not loop.last }}
    {%- endfor %}
    FROM `{{ project }}.{{ dataset }}.{{ table }}`
    WHERE `date` = DATE '{{ ds }}'
)

{{ measures_differ('from_events', 'from_table', measures, tolerances, 'events_value', 'table_value') }}
{%- endmacro %}


{#- The end of a comparison query, after the caller's CTEs `left` and `right` (one row each, one column per
    measure): the SELECT of each measure whose two values differ, as `left_value` and `right_value`. With
    `tolerances` (measure -> allowed absolute difference, 0.0 when not listed) both values are compared as
    FLOAT64; without, they must be equal. -#}
{% macro measures_differ(left, right, measures, tolerances, left_value, right_value) -%}
SELECT
    measure,
    {{ left_value }},
    {{ right_value }}
FROM ( {%- for measure in measures %}
    SELECT
        '{{ measure }}' AS measure, {%- if tolerances is none %}
        l.{{ measure }} AS {{ left_value }},
        r.{{ measure }} AS {{ right_value }} {%- else %}
        CAST(l.{{ measure }} AS FLOAT64) AS {{ left_value }},
        CAST(r.{{ measure }} AS FLOAT64) AS {{ right_value }},
        {{ tolerances.get(measure, 0.0) }} AS tolerance {%- endif %}
    FROM {{ left }} AS l CROSS JOIN {{ right }} AS r {%- if not loop.last %}
    UNION ALL {%- endif %}
    {%- endfor %}
) AS compared
WHERE {%- if tolerances is none %} {{ left_value }} != {{ right_value }}
    {%- else %} ABS({{ left_value }} - {{ right_value }}) > tolerance
    {%- endif %}
{%- endmacro %}
