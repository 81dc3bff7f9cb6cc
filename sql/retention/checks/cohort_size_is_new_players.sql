-- severity: fail
-- description: a cohort's size must equal the new players of its cohort day, and its platforms add up to it
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
    c.cohort_date,
    c.day_n,
    c.cohort_size,
    c.platforms_size,
    n.new_players
FROM cohorts AS c
LEFT JOIN new_players AS n ON c.cohort_date = n.cohort_date
WHERE n.new_players IS NULL OR c.cohort_size != n.new_players OR c.platforms_size != c.cohort_size
