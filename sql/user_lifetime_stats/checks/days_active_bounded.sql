-- severity: fail
-- description: days_active must be in [1, days since first_seen_date + 1] and last_seen_date in [first_seen_date, D]
SELECT
    user_id,
    first_seen_date,
    last_seen_date,
    days_active
FROM `{{ project }}.{{ dataset }}.user_lifetime_stats`
WHERE
    `date` = DATE '{{ ds }}'
    AND (
        days_active < 1
        OR days_active > DATE_DIFF(`date`, first_seen_date, DAY) + 1
        OR last_seen_date < first_seen_date
        OR last_seen_date > `date`
    )
