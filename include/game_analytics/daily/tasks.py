"""Task factories of ``game_analytics_daily``; every task processes day D = ``ds``, the run's logical date.

With ``DayAfterTimetable`` the logical date is the start of the data interval, the UTC day the run processes.

Heavy modules (scikit-learn, the Vertex AI operator) are imported inside the task callables, never here, so the
DAG parses in the time it takes to import Airflow and the BigQuery operator.
"""

from __future__ import annotations

from datetime import date

from airflow.providers.google.cloud.operators.bigquery import BigQueryInsertJobOperator
from airflow.sdk import BaseSensorOperator, PokeReturnValue, task
from airflow.sdk.exceptions import AirflowSkipException

from game_analytics.catalogue import Table
from game_analytics.config import Settings, load_settings
from game_analytics.crash_points import crash_point
from game_analytics.timetables import processed_day

TRAINING_WEEKDAY = 6  # Sunday (date.weekday())
TRAINING_WAIT_POKE_SECONDS = 30  # wait_for_training_days: the other days of a backfill finish within minutes


def _query_job(task_id: str, sql_file: str, settings: Settings, **kwargs) -> BigQueryInsertJobOperator:
    """A standard-SQL query job whose text is the rendered template ``sql/<sql_file>``, run afresh on every try.

    ``durable=False``: by default (Airflow 3.3's ``ResumableJobMixin``) a later try of the task (a retry, a
    cleared task, a ``backfill --reprocess-behavior completed``) finds the first try's job id in the task state
    store and, that job having succeeded, returns without running anything, so the partition keeps the rows of
    the first try and late events never reach it. A partition rebuild is idempotent (DELETE + INSERT of day D in
    one transaction), so running it again costs one query and recomputes D from the data as it is now; crash-resume
    would only save that query. ``force_rerun=True`` (the default) gives each try a new job id.
    """
    return BigQueryInsertJobOperator(
        task_id=task_id,
        configuration={"query": {"query": sql_file, "useLegacySql": False}},
        durable=False,
        force_rerun=True,
        project_id=settings.bq_project,
        location=settings.bq_location,
        gcp_conn_id=settings.gcp_conn_id,
        **kwargs,
    )


def build_partition(table: Table, settings: Settings, **kwargs) -> BigQueryInsertJobOperator:
    """Replace partition D of ``table`` with its query's rows, in one transaction (reruns never duplicate)."""
    return _query_job(table.name, "replace_partition.sql", settings, params={"table": table.name}, **kwargs)


def export_table(table: Table, settings: Settings, **kwargs) -> BigQueryInsertJobOperator:
    """A feature table's ``export.sql`` for D (e.g. Parquet into the features bucket, overwriting that day)."""
    return _query_job(f"export_{table.name}", table.export_sql, settings, **kwargs)


@task(multiple_outputs=False)
def check_table(table: str, ds: str | None = None, run_id: str | None = None) -> dict:
    """Run the checks stored next to ``table``; every result goes to ``check_results``, fail checks raise,
    warnings are logged and returned (XCom)."""
    from game_analytics.daily.quality import run_table_checks
    from game_analytics.warehouse.client import airflow_bigquery_client, query_rows

    settings = load_settings()
    client = airflow_bigquery_client(settings)
    results = run_table_checks(
        lambda sql: query_rows(client, sql), settings, table, ds, client=client, dag_run_id=run_id
    )
    crash_point(f"checks_recorded.{table}")  # test hook (crash_points.py): a try dying after its work
    return {
        "passed": [r.check.name for r in results if r.passed],
        "warnings": [r.message() for r in results if not r.passed],
    }


def _training_day(context) -> date:
    """D, when D is the training weekday; otherwise the task is skipped, saying why."""
    day = processed_day(context)
    if day.weekday() != TRAINING_WEEKDAY:
        raise AirflowSkipException(f"{day} is a {day:%A}; the model trains on Sundays only")
    return day


class WaitForTrainingDays(BaseSensorOperator):
    """Sundays: wait until no run of this DAG for an earlier day of the training lookback is running.

    In a backfill the days run in parallel: without this wait, Sunday's training could read the features of the
    days whose runs had finished and miss the others (a backfill trained another model than day-by-day runs).
    A day that will not export in time (no run, a failed run, a run queued behind this one for want of a run slot)
    is not waited for: the sensor logs it with the reason and returns it (XCom ``days_without_features``).
    Reschedule mode: no worker slot is held while waiting; it looks every 30 s (``GA_SENSOR_POKE_SECONDS`` when
    that is shorter: 10 s on the local stack).

    A ``BaseSensorOperator`` rather than ``@task.sensor``: the standard provider's ``PythonSensor`` behind that
    decorator logs a deprecation warning at every import (so at every DAG parse) in the pinned versions.
    """

    def __init__(self, *, task_id: str = "wait_for_training_days", **kwargs) -> None:
        kwargs.setdefault("mode", "reschedule")
        kwargs.setdefault("poke_interval", min(TRAINING_WAIT_POKE_SECONDS, load_settings().sensor_poke_seconds))
        kwargs.setdefault("timeout", 6 * 3600)
        super().__init__(task_id=task_id, **kwargs)

    def poke(self, context) -> PokeReturnValue:
        from game_analytics.daily.training_window import DagRunCounter, lookback_report

        day = _training_day(context)
        ti = context["ti"]
        counter = DagRunCounter(lambda **kw: ti.get_dr_count(dag_id=ti.dag_id, **kw))
        report = lookback_report(day, load_settings().training_lookback_days, counter)
        if report.in_flight:
            self.log.info("waiting for the runs of %s to finish before training on %s", report.in_flight_text(), day)
            return PokeReturnValue(is_done=False)
        for line in report.lines():
            self.log.info(line)
        return PokeReturnValue(is_done=True, xcom_value=report.as_dict())


@task(multiple_outputs=False)
def trigger_ml_training(**context) -> dict:
    """On Sundays: Vertex AI pipeline when ``GA_VERTEX_PROJECT`` is set, otherwise a real local training; either way
    the training is recorded in ``model_runs`` and promoted only when not worse (ml/registry.py). Returns the
    recorded row: model_id, metrics, ``promoted`` and ``decision`` (the reason)."""
    from datetime import UTC, datetime

    from game_analytics.ml.registry import new_model_id, register_local_training
    from game_analytics.storage import local_path
    from game_analytics.warehouse.client import airflow_bigquery_client

    day = _training_day(context)
    settings = load_settings()
    model_id = new_model_id(day, context["run_id"], context["ti"].try_number)
    client = airflow_bigquery_client(settings)
    if settings.train_on_vertex:
        from game_analytics.ml.vertex import register_vertex_training

        job = _run_vertex_pipeline(settings, day, context)
        get_model = _model_registry_reader(settings)
        row = register_vertex_training(client, settings, day, model_id, job, get_model, datetime.now(UTC))
        return {**row, "pipeline_job": job.get("name")}
    metrics = _train_locally(settings, day, model_id)
    features = local_path(settings.features_root)
    return register_local_training(client, settings, day, model_id, metrics, features, datetime.now(UTC))


def _train_locally(settings: Settings, day: date, model_id: str) -> dict:
    """Train into the model's own folder (ml/registry.py: model_folder_uri); returns train()'s metrics."""
    from game_analytics.ml.registry import model_folder_uri
    from game_analytics.ml.train_local import train
    from game_analytics.storage import local_path

    return train(
        features_root=local_path(settings.features_root),
        model_dir=local_path(model_folder_uri(settings, day, model_id)),
        training_date=day,
        lookback_days=settings.training_lookback_days,
    )


def _run_vertex_pipeline(settings: Settings, day: date, context) -> dict:
    """Run the pipeline job to its end; returns the job as a dict (PipelineJob.to_dict())."""
    # Imported here: the Vertex AI operator costs ~13 s of imports, which must not be paid at every DAG parse.
    from airflow.providers.google.cloud.operators.vertex_ai.pipeline_job import RunPipelineJobOperator

    from game_analytics.ml.registry import MODEL_NAME

    vertex_pipeline_job = RunPipelineJobOperator(
        task_id="vertex_pipeline_job",
        project_id=settings.vertex_project,
        region=settings.vertex_region,
        display_name=f"{MODEL_NAME}-{day.isoformat()}",
        template_path=settings.vertex_pipeline_template,
        parameter_values={"training_date": day.isoformat(), "lookback_days": settings.training_lookback_days},
        gcp_conn_id=settings.gcp_conn_id,
    )
    result = vertex_pipeline_job.execute(context)
    return result if isinstance(result, dict) else {}


def _model_registry_reader(settings: Settings):
    """``resource name -> Model`` of the Vertex AI Model Registry (a version in the name, ``@3``, is kept)."""
    from airflow.providers.google.cloud.hooks.vertex_ai.model_service import ModelServiceHook

    hook = ModelServiceHook(gcp_conn_id=settings.gcp_conn_id)

    def get_model(resource_name: str):
        model_id = resource_name.rsplit("/models/", 1)[-1]
        return hook.get_model(region=settings.vertex_region, project_id=settings.vertex_project, model_id=model_id)

    return get_model
