-- severity: fail
-- description: events, levels_completed and purchases summed over users must equal the day's counts in events
WITH from_events AS (
    SELECT
        COUNT(*) AS events,
        COUNTIF(event_type = 1002) AS levels_completed,
        COUNTIF(event_type = 2001) AS purchases
    FROM `{{ project }}.{{ dataset }}.events`
    WHERE event_date = DATE '{{ ds }}'
),

from_table AS (
    SELECT
        COALESCE(SUM(events), 0) AS events,
        COALESCE(SUM(levels_completed), 0) AS levels_completed,
        COALESCE(SUM(purchases), 0) AS purchases
    FROM `{{ project }}.{{ dataset }}.user_daily_metrics`
    WHERE `date` = DATE '{{ ds }}'
),

compared AS (
    SELECT
        'events' AS measure,
        e.events AS events_value,
        t.events AS table_value
    FROM from_events AS e CROSS JOIN from_table AS t
    UNION ALL
    SELECT
        'levels_completed' AS measure,
        e.levels_completed AS events_value,
        t.levels_completed AS table_value
    FROM from_events AS e CROSS JOIN from_table AS t
    UNION ALL
    SELECT
        'purchases' AS measure,
        e.purchases AS events_value,
        t.purchases AS table_value
    FROM from_events AS e CROSS JOIN from_table AS t
)

SELECT
    measure,
    events_value,
    table_value
FROM compared
WHERE events_value != table_value
