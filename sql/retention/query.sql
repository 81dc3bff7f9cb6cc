-- retention measured on day D = {{ ds }}: the cohorts C = D - N for N in 1, 7, 30, from partition D of
-- user_lifetime_stats only (first_seen_date, first_platform and bit 0 of days_seen_bits: active on D). A cohort
-- without players has no rows. Columns in the order of schema.sql (inserted positionally).
WITH cohort_players AS (
    SELECT
        first_seen_date AS cohort_date,
        DATE_DIFF(DATE '{{ ds }}', first_seen_date, DAY) AS day_n,
        COALESCE(first_platform, 'unknown') AS platform,
        days_seen_bits & 1 AS active_on_d
    FROM `{{ project }}.{{ dataset }}.user_lifetime_stats`
    WHERE
        `date` = DATE '{{ ds }}'
        AND first_seen_date IN (
            DATE_SUB(DATE '{{ ds }}', INTERVAL 1 DAY),
            DATE_SUB(DATE '{{ ds }}', INTERVAL 7 DAY),
            DATE_SUB(DATE '{{ ds }}', INTERVAL 30 DAY)
        )
),

cohorts AS (
    SELECT
        cohort_date,
        day_n,
        platform,
        COUNT(*) AS cohort_size,
        SUM(active_on_d) AS retained_users
    FROM cohort_players
    GROUP BY cohort_date, day_n, platform
    UNION ALL
    SELECT
        cohort_date,
        day_n,
        'all' AS platform,
        COUNT(*) AS cohort_size,
        SUM(active_on_d) AS retained_users
    FROM cohort_players
    GROUP BY cohort_date, day_n
)

SELECT
    DATE '{{ ds }}' AS `date`,
    cohort_date,
    day_n,
    platform,
    cohort_size,
    retained_users,
    retained_users / cohort_size AS retention_rate
FROM cohorts
