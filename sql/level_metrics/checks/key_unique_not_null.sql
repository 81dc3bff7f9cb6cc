-- severity: fail
-- description: level_metrics must hold exactly one row per non-NULL level_id for the day
SELECT
    level_id,
    COUNT(*) AS row_count
FROM `{{ project }}.{{ dataset }}.level_metrics`
WHERE `date` = DATE '{{ ds }}'
GROUP BY level_id
HAVING level_id IS NULL OR COUNT(*) > 1
