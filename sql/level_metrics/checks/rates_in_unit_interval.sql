-- severity: fail
-- description: pass_rate, retry_rate and booster_usage_rate must be NULL or within [0, 1]
SELECT
    level_id,
    pass_rate,
    retry_rate,
    booster_usage_rate
FROM `{{ project }}.{{ dataset }}.level_metrics`
WHERE
    `date` = DATE '{{ ds }}'
    AND (
        pass_rate NOT BETWEEN 0 AND 1
        OR retry_rate NOT BETWEEN 0 AND 1
        OR booster_usage_rate NOT BETWEEN 0 AND 1
    )
