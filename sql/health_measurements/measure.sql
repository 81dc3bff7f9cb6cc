{#- Every warehouse-side health measurement at the instant now_ts (a TIMESTAMP literal), as rows (metric, subject,
    value) in one statement (health/measure.py; the metric names are health/metrics.py's). Each read is bounded to
    the partitions it needs, and to what had happened by now_ts, so a re-run of an instant measures the same:
    - events: event_date from now's day - 3 to now's day + 1 (freshness, the days that had events);
    - ingestion_runs: finished in the 2 days before now (the last run, the DLQ rate's runs, the last 24 h); the
      DLQ rate, events/s and dead letters count every attempt of a run (a failed or killed try's row holds what it
      committed), the time since the last successful run only successful ones;
    - event_volume_hourly: the 24 hourly buckets up to now (refresh_event_volume keeps them);
    - the horizon (horizon_days, GA_ALERT_HORIZON_DAYS, default 30): a day's failure is measured, and fires, until
      it is fixed, for every day from now's day - horizon_days on: check_results of those days (the latest run's
      results of a day: a re-run replaces them), dag_run_outcomes finished since the horizon's start (a run of D
      ends after D starts), live_event_counts of those days (which days had events: a few thousand small rows a
      day, not the events table). A failure older than the horizon is not measured; the lifecycle marks its alert
      expired instead of resolved (health/lifecycle.py), and the page lists it.
    - dag_run_failed: the daily DAG per day D (subject <dag>@<D>, the latest run of D), the others per DAG (the
      latest run; a daily run without a logical date: the DAG, until a later daily run succeeds);
      daily_metrics_late: each day with events and no successful run of it, from the first day the daily DAG ran
      (its outcomes of twice the horizon: days before predate the pipeline), or the last 3 days if it never ran.
    With no event or run in its window, freshness and the time since the last run are at least the window's
    length (the window's start is used): nothing seen is as bad as the oldest thing the query may look at; but
    only once ingestion has ever succeeded (ingestion_watermarks holds a row of the topic: every ingestion run that
    reaches its end writes one per partition, just before its ingestion_runs row; one row per partition, a fixed
    size). Before that, on an empty stack, both are NULL: "no data yet", which no rule fires on. -#}
{% set today = "DATE(" ~ now_ts ~ ")" -%}
{% set runs_since = "TIMESTAMP_SUB(" ~ now_ts ~ ", INTERVAL 2 DAY)" -%}
{% set horizon_start = "DATE_SUB(" ~ today ~ ", INTERVAL " ~ horizon_days ~ " DAY)" -%}
{% set seconds_before_now = "(UNIX_MILLIS(" ~ now_ts ~ ") - UNIX_MILLIS(%s)) / 1000" -%}
WITH attempts AS (
    SELECT
        run_id,
        shard,
        state,
        finished_at,
        consumed,
        dead_lettered,
        seconds,
        events_per_second,
        dead_lettered_by_reason
    FROM `{{ project }}.{{ dataset }}.ingestion_runs`
    WHERE finished_at > {{ runs_since }} AND finished_at <= {{ now_ts }}
),

{# The successful attempts (a NULL state: a row from before attempts were recorded, when only successes were). #}
runs AS (
    SELECT finished_at
    FROM attempts
    WHERE state IS NULL OR state = 'success'
),

recent_events AS (
    SELECT
        event_date,
        MAX(ingested_at) AS newest_ingested_at
    FROM `{{ project }}.{{ dataset }}.events`
    WHERE
        event_date BETWEEN DATE_SUB({{ today }}, INTERVAL 3 DAY) AND DATE_ADD({{ today }}, INTERVAL 1 DAY)
        AND ingested_at <= {{ now_ts }}
    GROUP BY event_date
),

{# The outcomes of twice the horizon, read once: the first day the daily DAG ran (expected_from) looks that far
   back, everything else only at the horizon's (outcomes). A small table: a few rows a day. #}
outcomes_read AS (
    SELECT
        dag_id,
        run_id,
        day,
        state,
        finished_at
    FROM `{{ project }}.{{ dataset }}.dag_run_outcomes`
    WHERE
        finished_at > TIMESTAMP(DATE_SUB({{ today }}, INTERVAL {{ 2 * horizon_days }} DAY))
        AND finished_at <= {{ now_ts }}
),

outcomes AS (
    SELECT
        dag_id,
        run_id,
        day,
        state,
        finished_at,
        IF(dag_id = {{ daily_dag | sql_string }} AND day IS NOT NULL, CONCAT(dag_id, '@', CAST(day AS STRING)), dag_id)
            AS subject
    FROM outcomes_read
    WHERE finished_at > TIMESTAMP({{ horizon_start }})
),

daily_successes AS (
    SELECT DISTINCT day
    FROM outcomes
    WHERE dag_id = {{ daily_dag | sql_string }} AND state = 'success' AND day IS NOT NULL
),

{# The latest run of each subject: of each day D for the daily DAG, of the DAG for the others. A daily run without
   a logical date (no day) is its own subject, below. #}
latest_outcomes AS (
    SELECT
        subject AS outcome_subject,
        state
    FROM outcomes
    WHERE
        (day IS NULL AND dag_id != {{ daily_dag | sql_string }})
        OR (day IS NOT NULL AND day >= {{ horizon_start }})
    QUALIFY ROW_NUMBER() OVER (PARTITION BY subject ORDER BY finished_at DESC, run_id DESC) = 1
),

{# A failed daily run without a logical date processed no day: it fires (subject: the DAG) until any later daily
   run succeeds. #}
dayless_daily AS (
    SELECT
        state,
        finished_at
    FROM outcomes
    WHERE dag_id = {{ daily_dag | sql_string }} AND day IS NULL
    QUALIFY ROW_NUMBER() OVER (ORDER BY finished_at DESC, run_id DESC) = 1
),

{# Days with events: the live counts of the horizon's days, and the stored events of the last 3 (a deployment
   older than live_event_counts has only those); what had been counted by now. #}
event_days AS (
    SELECT DISTINCT event_date
    FROM `{{ project }}.{{ dataset }}.live_event_counts`
    WHERE
        event_date BETWEEN {{ horizon_start }} AND DATE_SUB({{ today }}, INTERVAL 1 DAY)
        AND added_at <= {{ now_ts }}
    UNION DISTINCT
    SELECT event_date
    FROM recent_events
    WHERE event_date BETWEEN DATE_SUB({{ today }}, INTERVAL 3 DAY) AND DATE_SUB({{ today }}, INTERVAL 1 DAY)
),

{# The days a daily run is expected for: from the first day the daily DAG ran, looked for over twice the horizon,
   so that day does not move forward while the days after it are watched. #}
expected_from AS (
    SELECT COALESCE(MIN(day), DATE_SUB({{ today }}, INTERVAL 3 DAY)) AS first_day
    FROM outcomes_read
    WHERE dag_id = {{ daily_dag | sql_string }}
),

{# Each shard's rate over all its attempts (tries run one after the other): their rates weighted by their seconds,
   what they consumed over the time they ran. #}
shard_rates AS (
    SELECT
        run_id,
        MAX(finished_at) AS finished_at,
        COALESCE(SAFE_DIVIDE(SUM(events_per_second * seconds), SUM(seconds)), MAX(events_per_second)) AS rate
    FROM attempts
    GROUP BY run_id, shard
),

{# The latest run's events/s: its shards ran side by side, so their rates add up. #}
last_run AS (
    SELECT SUM(rate) AS events_per_second
    FROM shard_rates
    GROUP BY run_id
    ORDER BY MAX(finished_at) DESC
    LIMIT 1
),

{# The last runs that consumed anything, each summed over its shards and attempts. #}
dlq_rate_runs AS (
    SELECT
        SUM(dead_lettered) AS dead_lettered,
        SUM(consumed) AS consumed
    FROM attempts
    GROUP BY run_id
    HAVING SUM(consumed) > 0
    ORDER BY MAX(finished_at) DESC
    LIMIT {{ dlq_rate_runs }}
),

{# One pass over the last 24 h of attempts: each reason code summed over their JSON objects (reason -> count). #}
dead_letters_24h AS (
    SELECT
        [
            {%- for reason in reasons %}
                STRUCT(
                    {{ reason | sql_string }} AS reason,
                    COALESCE(SUM(CAST(JSON_VALUE(dead_lettered_by_reason, '$.{{ reason }}') AS INT64)), 0)
                        AS dead_letters
                ){{ "," if not loop.last }}
            {%- endfor %}
        ] AS reasons
    FROM attempts
    WHERE finished_at > TIMESTAMP_SUB({{ now_ts }}, INTERVAL 24 HOUR)
),

ingested_ever AS (
    SELECT COUNT(*) > 0 AS succeeded
    FROM `{{ project }}.{{ dataset }}.ingestion_watermarks`
    WHERE topic = {{ topic | sql_string }}
),

volume AS (
    SELECT
        event_group AS group_name,
        events
    FROM `{{ project }}.{{ dataset }}.event_volume_hourly`
    WHERE
        hour > TIMESTAMP_SUB(TIMESTAMP_TRUNC({{ now_ts }}, HOUR), INTERVAL 24 HOUR)
        AND hour <= {{ now_ts }}
)

SELECT
    'freshness_seconds' AS metric,
    '' AS subject,
    IF(
        MAX(newest_ingested_at) IS NULL AND NOT (SELECT ingested_ever.succeeded FROM ingested_ever),
        NULL,
        {{ seconds_before_now | format(
            "COALESCE(MAX(newest_ingested_at), TIMESTAMP(DATE_SUB(" ~ today ~ ", INTERVAL 2 DAY)))"
        ) }}
    ) AS value
FROM recent_events
WHERE event_date >= DATE_SUB({{ today }}, INTERVAL 2 DAY)

UNION ALL

SELECT
    'seconds_since_successful_ingestion' AS metric,
    '' AS subject,
    IF(
        MAX(finished_at) IS NULL AND NOT (SELECT ingested_ever.succeeded FROM ingested_ever),
        NULL,
        {{ seconds_before_now | format("COALESCE(MAX(finished_at), " ~ runs_since ~ ")") }}
    ) AS value
FROM runs

UNION ALL

SELECT
    'events_per_second' AS metric,
    '' AS subject,
    COALESCE(ANY_VALUE(events_per_second), 0) AS value
FROM last_run

UNION ALL

SELECT
    'dlq_rate' AS metric,
    '' AS subject,
    COALESCE(SAFE_DIVIDE(SUM(dead_lettered), SUM(consumed)), 0) AS value
FROM dlq_rate_runs

UNION ALL

SELECT
    'dead_lettered_24h' AS metric,
    per_reason.reason AS subject,
    per_reason.dead_letters AS value
FROM dead_letters_24h, UNNEST(dead_letters_24h.reasons) AS per_reason

UNION ALL

SELECT
    'events_24h' AS metric,
    event_group AS subject,
    COALESCE(SUM(volume.events), 0) AS value
FROM
    UNNEST([
        {%- for group in event_groups %}
            {{ group | sql_string }}{{ "," if not loop.last }}
        {%- endfor %}
    ]) AS event_group
LEFT JOIN volume ON event_group = volume.group_name
GROUP BY event_group

UNION ALL

SELECT
    'daily_metrics_late_seconds' AS metric,
    CAST(event_date AS STRING) AS subject,
    {{ seconds_before_now | format("TIMESTAMP(DATE_ADD(event_date, INTERVAL 1 DAY))") }} AS value
FROM event_days
WHERE
    event_date >= LEAST((SELECT expected_from.first_day FROM expected_from), DATE_SUB({{ today }}, INTERVAL 3 DAY))
    AND event_date NOT IN (SELECT daily_successes.day FROM daily_successes)

UNION ALL

SELECT
    IF(status = 'fail', 'failed_checks', 'warned_checks') AS metric,
    CONCAT(table_name, '.', check_name, '@', CAST(day AS STRING)) AS subject,
    offending_rows AS value
FROM `{{ project }}.{{ dataset }}.check_results`
WHERE
    day BETWEEN {{ horizon_start }} AND {{ today }}
    AND status IN ('fail', 'warn')

UNION ALL

SELECT
    'dag_run_failed' AS metric,
    dag_id AS subject,
    IF(latest.state = 'failed', 1, 0) AS value
FROM
    UNNEST([
        {%- for dag in dag_ids if dag != daily_dag %}
            {{ dag | sql_string }}{{ "," if not loop.last }}
        {%- endfor %}
    ]) AS dag_id
LEFT JOIN latest_outcomes AS latest ON dag_id = latest.outcome_subject

UNION ALL

SELECT
    'dag_run_failed' AS metric,
    latest.outcome_subject AS subject,
    IF(latest.state = 'failed', 1, 0) AS value
FROM latest_outcomes AS latest
WHERE STARTS_WITH(latest.outcome_subject, {{ (daily_dag ~ "@") | sql_string }})

UNION ALL

SELECT
    'dag_run_failed' AS metric,
    {{ daily_dag | sql_string }} AS subject,
    IF(
        dayless.state = 'failed'
        AND NOT EXISTS (
            SELECT 1
            FROM outcomes AS later
            WHERE
                later.dag_id = {{ daily_dag | sql_string }}
                AND later.state = 'success'
                AND later.finished_at > dayless.finished_at
        ),
        1,
        0
    ) AS value
FROM dayless_daily AS dayless
