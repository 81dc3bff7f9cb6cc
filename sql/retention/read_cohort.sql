-- The retention of one install cohort, all platforms together, by day_n: partitions cohort + 1, + 7 and + 30 only.
SELECT
    day_n,
    cohort_size,
    retained_users,
    retention_rate
FROM `{{ project }}.{{ dataset }}.retention`
WHERE
    `date` IN (
        DATE_ADD(DATE '{{ cohort }}', INTERVAL 1 DAY),
        DATE_ADD(DATE '{{ cohort }}', INTERVAL 7 DAY),
        DATE_ADD(DATE '{{ cohort }}', INTERVAL 30 DAY)
    )
    AND cohort_date = DATE '{{ cohort }}'
    AND platform = 'all'
ORDER BY day_n
