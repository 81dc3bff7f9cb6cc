"""Imported by every Airflow component at start-up (the plugins folder is on its sys.path).

In the scheduler only, pre-import the BigQuery operator module. LocalExecutor workers are forked from the
scheduler and each task process is forked from a worker, so a task then parses the daily DAG file without paying
the operator's import again (~7 s idle, 20+ s on a busy 2-core machine) before it can start.
"""

import sys

if sys.argv[1:2] == ["scheduler"]:
    import airflow.providers.google.cloud.operators.bigquery  # noqa: F401
