-- The promoted model's predicted pass rate per level (ml/registry.py writes it when it promotes a model, in the
-- same transaction as the model's model_runs row: sql/model_runs/record.sql).
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.level_predictions` (
    model_id STRING NOT NULL,
    training_date DATE NOT NULL,
    level_id INT64 NOT NULL,
    predicted_pass_rate FLOAT64
)
PARTITION BY training_date
