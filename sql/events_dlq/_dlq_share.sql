{#- The DLQ-share check body (imported by checks/dlq_share_*.sql `with context`: reads project, dataset and ds).

    One row when the share of day ds's messages that were dead-lettered is above `threshold`:
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
