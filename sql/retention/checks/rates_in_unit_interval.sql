-- severity: fail
-- description: retention_rate must be within [0, 1] and retained_users at most cohort_size
SELECT
    cohort_date,
    day_n,
    platform,
    cohort_size,
    retained_users,
    retention_rate
FROM `{{ project }}.{{ dataset }}.retention`
WHERE
    `date` = DATE '{{ ds }}'
    AND (retention_rate NOT BETWEEN 0 AND 1 OR retained_users > cohort_size OR cohort_size < 1)
