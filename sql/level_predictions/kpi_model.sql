{#- One model's predicted pass rate per level, from its training_date partition only: the "Game KPIs" page's
    predicted curve (kpi_ui/snapshot.py).
    Sample values for sqlfluff (kpi_ui/snapshot.py passes the real ones): -#}
-- sqlfluff:templater:jinja:context:model_id:level-difficulty-2026-01-01-abc123
-- sqlfluff:templater:jinja:context:training_date:2026-01-01
SELECT
    level_id,
    predicted_pass_rate
FROM `{{ project }}.{{ dataset }}.level_predictions`
WHERE training_date = DATE({{ training_date | sql_string }}) AND model_id = {{ model_id | sql_string }}
ORDER BY level_id
