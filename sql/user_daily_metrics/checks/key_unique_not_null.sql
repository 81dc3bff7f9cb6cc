-- severity: fail
-- description: user_daily_metrics must hold exactly one row per non-NULL user_id for the day
SELECT
    user_id,
    COUNT(*) AS row_count
FROM `{{ project }}.{{ dataset }}.user_daily_metrics`
WHERE `date` = DATE '{{ ds }}'
GROUP BY user_id
HAVING user_id IS NULL OR COUNT(*) > 1
