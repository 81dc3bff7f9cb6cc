-- severity: fail
-- description: revenue_usd and arpdau must be numbers >= 0 (arppu too where it is defined)
SELECT
    platform,
    country,
    revenue_usd,
    arpdau,
    arppu
FROM `{{ project }}.{{ dataset }}.revenue_daily_metrics`
WHERE
    `date` = DATE '{{ ds }}'
    AND (
        revenue_usd IS NULL
        OR revenue_usd < 0
        OR arpdau IS NULL
        OR arpdau < 0
        OR arppu < 0
    )
