{#- Attempts and pass rate per level over the days first_day to last_day (their partitions only), the pass rate
    defined as level_metrics defines it for one day, over the summed counts: the "Game KPIs" page's level-difficulty
    curve (kpi_ui/snapshot.py).
    Sample values for sqlfluff (kpi_ui/snapshot.py passes the real ones): -#}
-- sqlfluff:templater:jinja:context:first_day:2025-12-26
-- sqlfluff:templater:jinja:context:last_day:2026-01-01
SELECT
    level_id,
    SUM(attempts) AS attempts,
    SUM(completions) AS completions,
    SUM(failures) AS failures,
    SAFE_DIVIDE(SUM(completions), SUM(completions) + SUM(failures)) AS pass_rate
FROM `{{ project }}.{{ dataset }}.level_metrics`
WHERE `date` BETWEEN DATE({{ first_day | sql_string }}) AND DATE({{ last_day | sql_string }}) AND level_id IS NOT NULL
GROUP BY level_id
ORDER BY level_id
