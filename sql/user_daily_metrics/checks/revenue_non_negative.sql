-- severity: fail
-- description: revenue_usd must be a number >= 0 (0 for users without purchases, never NULL)
SELECT
    user_id,
    revenue_usd
FROM `{{ project }}.{{ dataset }}.user_daily_metrics`
WHERE
    `date` = DATE '{{ ds }}'
    AND (revenue_usd IS NULL OR revenue_usd < 0)
