-- How each run of the ingestion and daily DAGs ended, written by their DAG-level callbacks (health/records.py)
-- and MERGEd on (dag_id, run_id); the health DAG reads it for failed DAGs and late daily metrics.
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.dag_run_outcomes` (
    dag_id STRING NOT NULL,
    run_id STRING NOT NULL,
    day DATE,
    state STRING NOT NULL,
    failed_tasks STRING,
    finished_at TIMESTAMP NOT NULL
)
PARTITION BY DATE(finished_at)
