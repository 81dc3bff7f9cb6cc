-- severity: warn
-- description: level_complete (1002) events on the day dropped more than volume_drop_warn_ratio below the 7-day average
-- The baseline is the average daily count over the 7 days before D (D-7 .. D-1), days without events counting as
-- 0, so a short history (a new pipeline) lowers the baseline rather than raising false alarms. Without any
-- level_complete in those 7 days there is nothing to compare with and the check passes.
WITH counts AS (
    SELECT
        COUNTIF(event_date = DATE '{{ ds }}') AS day_count,
        COUNTIF(event_date < DATE '{{ ds }}') / 7 AS baseline_daily_avg
    FROM `{{ project }}.{{ dataset }}.events`
    WHERE
        event_date BETWEEN DATE_SUB(DATE '{{ ds }}', INTERVAL 7 DAY) AND DATE '{{ ds }}'
        AND event_type = 1002
)

SELECT
    day_count,
    baseline_daily_avg,
    1 - day_count / baseline_daily_avg AS drop_ratio,
    CAST({{ volume_drop_warn_ratio }} AS FLOAT64) AS warn_above
FROM counts
WHERE
    baseline_daily_avg > 0
    AND 1 - day_count / baseline_daily_avg > {{ volume_drop_warn_ratio }}
