-- One row per training of the level-difficulty model (ml/registry.py writes it, with sql/model_runs/record.sql):
-- its metrics, where the model is, and the promotion decision. The current model is the latest promoted row.
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.model_runs` (
    model_id STRING NOT NULL,
    training_date DATE NOT NULL,
    trained_at TIMESTAMP,
    `rows` INT64,
    days INT64,
    held_out_days STRING,
    mae FLOAT64,
    r2 FLOAT64,
    model_uri STRING,
    registry_version STRING,
    compared_with STRING,
    current_mae FLOAT64,
    promoted BOOL,
    decision STRING
)
PARTITION BY training_date
