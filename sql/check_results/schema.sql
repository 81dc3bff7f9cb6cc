-- Every data-quality check's result for day D (daily/quality.py): each run of a table's checks task replaces the
-- rows of its (day, table_name), so warn results are visible outside the task's XCom.
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.check_results` (
    day DATE NOT NULL,
    table_name STRING NOT NULL,
    check_name STRING NOT NULL,
    severity STRING NOT NULL,
    status STRING NOT NULL,
    message STRING,
    offending_rows INT64,
    offending_values STRING,
    dag_run_id STRING,
    checked_at TIMESTAMP NOT NULL
)
PARTITION BY day
CLUSTER BY table_name
