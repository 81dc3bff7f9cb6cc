-- severity: fail
-- description: revenue_daily_metrics must hold exactly one row per non-NULL (platform, country) for the day
SELECT
    platform,
    country,
    COUNT(*) AS row_count
FROM `{{ project }}.{{ dataset }}.revenue_daily_metrics`
WHERE `date` = DATE '{{ ds }}'
GROUP BY platform, country
HAVING platform IS NULL OR country IS NULL OR COUNT(*) > 1
