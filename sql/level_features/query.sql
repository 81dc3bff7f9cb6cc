-- Features for ML on day D = {{ ds }} (the EXPORT DATA step writes them as Parquet); see shared spec metrics.md.
SELECT
    level_id,
    `date`,
    attempts,
    pass_rate,
    avg_moves,
    p95_moves,
    retry_rate,
    booster_usage_rate,
    unique_players
FROM `{{ project }}.{{ dataset }}.level_metrics`
WHERE `date` = DATE '{{ ds }}'
