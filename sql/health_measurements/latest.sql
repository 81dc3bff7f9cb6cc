{#- The newest health run's measurements (one measured_at) within the lookback window ending at now: what the
    health page's tiles and /metrics show (health/snapshot.py). Both scans read only the window's partitions.
    Sample values for sqlfluff (health/snapshot.py passes the real ones): -#}
-- sqlfluff:templater:jinja:context:since:2026-01-01
-- sqlfluff:templater:jinja:context:now:2026-01-02
WITH newest AS (
    SELECT MAX(measured_at) AS measured_at
    FROM `{{ project }}.{{ dataset }}.health_measurements`
    WHERE measured_at BETWEEN TIMESTAMP({{ since | sql_string }}) AND TIMESTAMP({{ now | sql_string }})
)

SELECT
    m.measured_at,
    m.metric,
    m.subject,
    m.value
FROM `{{ project }}.{{ dataset }}.health_measurements` AS m
INNER JOIN newest ON m.measured_at = newest.measured_at
WHERE m.measured_at BETWEEN TIMESTAMP({{ since | sql_string }}) AND TIMESTAMP({{ now | sql_string }})
ORDER BY m.metric, m.subject
