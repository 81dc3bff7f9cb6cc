{#- The daily summary of the days first_day to last_day (their partitions only): the "Game KPIs" page's last
    30 days (kpi_ui/snapshot.py).
    Sample values for sqlfluff (kpi_ui/snapshot.py passes the real ones): -#}
-- sqlfluff:templater:jinja:context:first_day:2025-12-03
-- sqlfluff:templater:jinja:context:last_day:2026-01-01
SELECT
    `date`,
    dau,
    wau,
    mau,
    stickiness,
    new_players,
    returning_players,
    total_players,
    paying_players,
    revenue_usd,
    purchases,
    arpdau,
    lifetime_revenue_usd
FROM `{{ project }}.{{ dataset }}.daily_summary`
WHERE `date` BETWEEN DATE({{ first_day | sql_string }}) AND DATE({{ last_day | sql_string }})
ORDER BY `date`
