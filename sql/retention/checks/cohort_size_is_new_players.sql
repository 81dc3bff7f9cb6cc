-- severity: fail
-- description: each cohort day's new players must have a cohort of that size, and its platforms add up to it
WITH cohorts AS (
    SELECT
        cohort_date,
        day_n,
        SUM(IF(platform = 'all', cohort_size, 0)) AS cohort_size,
        SUM(IF(platform = 'all', 0, cohort_size)) AS platforms_size
    FROM `{{ project }}.{{ dataset }}.retention`
    WHERE `date` = DATE '{{ ds }}'
    GROUP BY cohort_date, day_n
),

new_players AS (
    -- The players first seen on each cohort day, as that day's own partition counts them (3 partitions).
    SELECT
        `date` AS cohort_date,
        COUNT(*) AS new_players
    FROM `{{ project }}.{{ dataset }}.user_lifetime_stats`
    WHERE
        `date` IN (
            DATE_SUB(DATE '{{ ds }}', INTERVAL 1 DAY),
            DATE_SUB(DATE '{{ ds }}', INTERVAL 7 DAY),
            DATE_SUB(DATE '{{ ds }}', INTERVAL 30 DAY)
        )
        AND first_seen_date = `date`
    GROUP BY `date`
)

SELECT
    COALESCE(n.cohort_date, c.cohort_date) AS cohort_date,
    c.day_n,
    c.cohort_size,
    c.platforms_size,
    n.new_players
FROM new_players AS n
FULL OUTER JOIN cohorts AS c ON n.cohort_date = c.cohort_date
-- A cohort day with new players but no retention row is offending too (a cohort the query dropped).
WHERE
    n.new_players IS NULL
    OR c.cohort_size IS NULL
    OR c.cohort_size != n.new_players
    OR c.platforms_size != c.cohort_size
