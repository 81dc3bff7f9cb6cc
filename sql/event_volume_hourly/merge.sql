{#- The events stored per hour and event group for the 24 whole hours before `now` and the current hour
    (health/measure.py: refresh_event_volume), MERGEd on (hour, event_group): late events update their hour, a
    re-run changes nothing. Distinct event_ids: an event sent twice is two rows of `events` until the daily DAG
    de-duplicates its day (events/deduplicate.sql), and counts once here. The groups and their event codes come from events/contract.py (event_groups,
    grouped_codes: all of their codes); now_ts is the health run's instant as a TIMESTAMP literal. -#}
{% set first_hour = "TIMESTAMP_SUB(TIMESTAMP_TRUNC(" ~ now_ts ~ ", HOUR), INTERVAL 24 HOUR)" -%}
MERGE `{{ project }}.{{ dataset }}.event_volume_hourly` AS T
USING (
    SELECT
        TIMESTAMP_TRUNC(`timestamp`, HOUR) AS hour,
        CASE
            {%- for group, codes in event_groups %}
                WHEN event_type IN {{ codes }} THEN {{ group | sql_string }}
            {%- endfor %}
        END AS event_group,
        COUNT(DISTINCT event_id) AS events
    FROM `{{ project }}.{{ dataset }}.events`
    WHERE
        event_date BETWEEN DATE({{ first_hour }}) AND DATE({{ now_ts }})
        AND `timestamp` >= {{ first_hour }}
        AND `timestamp` <= {{ now_ts }}
        AND event_type IN {{ grouped_codes }}
    GROUP BY hour, event_group
) AS S
    ON T.hour = S.hour AND T.event_group = S.event_group AND T.hour >= {{ first_hour }}
WHEN MATCHED THEN
    UPDATE SET events = S.events, measured_at = {{ now_ts }}
WHEN NOT MATCHED THEN
    INSERT (hour, event_group, events, measured_at)
    VALUES (S.hour, S.event_group, S.events, {{ now_ts }})
