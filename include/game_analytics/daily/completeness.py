"""Is day D complete? The `events` partition for D exists and ingestion has moved past the end of D.

The ingestion DAG writes one ``ingestion_watermarks`` row per partition of the raw topic after every run, with
``caught_up_at`` = the time at which it had read everything that partition held. D is complete when every
partition has ``caught_up_at >= D+1 00:00 UTC + grace``: anything a client sent before then is in the warehouse.

Once D is complete, the same poke makes D readable: it de-duplicates D's event_ids (``sql/events/deduplicate.sql``:
the ingestion appends each Kafka message once, and an event sent in two messages is two rows until then), so every
task after the sensor reads each event of D once. One step, not a task of its own: it is what "D is ready" means,
and a task more on every run's critical path cost each run a few seconds of scheduling. A failure of it (the
warehouse) fails the poke, which is retried like any other; running it again deletes nothing more.

Scheduled runs and backfills wait in reschedule mode, for hours if need be. Under `airflow dags test` (and
`tasks test`) the sensor runs inside the CLI process, where a 12-hour wait is a hang: there it pokes in place,
gives up after ``sensor_cli_timeout_seconds`` saying what is missing and what to do, and a SIGTERM or Ctrl-C
fails it at once, without retries (Airflow's in-process runner only calls ``on_kill`` on SIGTERM and carries on;
a KeyboardInterrupt would be retried after ``retry_delay``), so the run ends failed instead of being left running.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowSensorTimeout, AirflowTaskTerminated

from game_analytics.config import Settings, load_settings
from game_analytics.timetables import processed_day
from game_analytics.warehouse.sql_templates import render_sql

# How often the sensor checks under `airflow dags test` (at most; GA_SENSOR_POKE_SECONDS if that is shorter).
CLI_POKE_SECONDS = 10
# The triggering user `DAG.test()` gives the run it creates (Airflow 3.3 passes no `triggered_by` to the task).
_DAG_TEST_USER = "dag_test"


@dataclass(frozen=True)
class Completeness:
    complete: bool
    reason: str


def is_cli_test_run(context) -> bool:
    """True under `airflow dags test` / `airflow tasks test` (or `dag.test()`): the task runs in the CLI process.

    The run of `dags test` is a manual run whose ``triggered_by`` (TEST) stays in the metadata DB; the task sees its
    triggering user, "dag_test" (also with ``--use-executor``). Both commands run tasks through Airflow's in-process
    supervisor, whose comms the task runner holds while the task runs.
    """
    dag_run = context.get("dag_run")
    if getattr(dag_run, "triggering_user_name", None) == _DAG_TEST_USER:
        return True
    from airflow.sdk.execution_time import task_runner
    from airflow.sdk.execution_time.supervisor import InProcessSupervisorComms

    return isinstance(getattr(task_runner, "SUPERVISOR_COMMS", None), InProcessSupervisorComms)


def day_status(day: date, partition_exists: bool, watermarks: list[dict], grace: timedelta) -> Completeness:
    """Decide from the partition flag and the watermark rows (``partition``, ``caught_up_at``)."""
    needed = datetime.combine(day + timedelta(days=1), time(), tzinfo=UTC) + grace
    if not partition_exists:
        return Completeness(False, f"no events partition for {day} yet")
    if not watermarks:
        return Completeness(False, "no ingestion watermarks recorded yet")
    behind = sorted(
        (w["partition"], w["caught_up_at"])
        for w in watermarks
        if w["caught_up_at"] is None or w["caught_up_at"] < needed
    )
    if behind:
        shown = ", ".join(f"partition {p} at {c}" for p, c in behind[:8])
        return Completeness(False, f"ingestion has not caught up past {needed.isoformat()}: {shown}")
    return Completeness(True, f"events for {day} present and every partition caught up past {needed.isoformat()}")


def fetch_status(client, settings: Settings, day: date) -> Completeness:
    """Two cheap metadata reads: the partition list and the watermark rows of the raw topic (SQL in sql/)."""
    partitions = client.query(
        render_sql("partition_has_rows.sql", settings, table="events", ds=day.isoformat())
    ).result()
    watermarks = client.query(render_sql("ingestion_watermarks/read.sql", settings, topic=settings.raw_topic)).result()
    return day_status(day, partitions.total_rows > 0, [dict(r) for r in watermarks], settings.completeness_grace)


class DayCompleteSensor(BaseSensorOperator):
    """Waits for day D (``ds``) without holding a worker slot (reschedule mode; in a CLI test run, briefly), then
    de-duplicates D."""

    def __init__(self, **kwargs):
        settings = load_settings()
        kwargs.setdefault("mode", "reschedule")
        kwargs.setdefault("poke_interval", settings.sensor_poke_seconds)
        kwargs.setdefault("timeout", settings.sensor_timeout_hours * 3600)
        super().__init__(**kwargs)
        self._last_reason = "not checked yet"
        self._waiting_in_cli_for: date | None = None

    def poke(self, context) -> bool:
        from game_analytics.warehouse.client import airflow_bigquery_client

        settings = load_settings()
        day = processed_day(context)
        client = airflow_bigquery_client(settings)
        status = fetch_status(client, settings, day)
        self._last_reason = status.reason
        self.log.info("%s", status.reason)
        if status.complete:
            deleted = deduplicate_day(client, settings, day)
            self.log.info("de-duplicated %s: %d later copies of its events deleted", day, deleted)
        return status.complete

    def execute(self, context):
        day = processed_day(context)
        if is_cli_test_run(context):
            return self._execute_in_cli(context, day)
        try:
            return super().execute(context)
        except AirflowSensorTimeout as exc:
            raise AirflowSensorTimeout(
                f"day {day} still incomplete after {self.timeout:.0f} s (GA_SENSOR_TIMEOUT_HOURS): {self._last_reason}"
            ) from exc

    def _execute_in_cli(self, context, day: date):
        """Poke in place (reschedule would loop in the CLI process) for at most GA_SENSOR_CLI_TIMEOUT_SECONDS."""
        settings = load_settings()
        saved = self.mode, self.timeout, self.poke_interval
        self.mode, self.timeout = "poke", float(settings.sensor_cli_timeout_seconds)
        self.poke_interval = min(self.poke_interval, CLI_POKE_SECONDS)
        self.log.info(
            "CLI test run: waiting at most %.0f s for day %s (GA_SENSOR_CLI_TIMEOUT_SECONDS)", self.timeout, day
        )
        self._waiting_in_cli_for = day
        try:
            return super().execute(context)
        except AirflowSensorTimeout as exc:
            raise AirflowSensorTimeout(
                f"day {day} is not complete after {self.timeout:.0f} s (GA_SENSOR_CLI_TIMEOUT_SECONDS): "
                f"{self._last_reason}. Load that day's events and run game_events_ingest, or pick a day that has "
                f"data: SELECT DISTINCT event_date FROM {settings.table('events')}"
            ) from exc
        except KeyboardInterrupt as exc:  # Ctrl-C: fail, not retry (the CLI would then wait out retry_delay)
            raise AirflowTaskTerminated(self._stopped_message(day, "Ctrl-C (SIGINT)")) from exc
        finally:
            self._waiting_in_cli_for = None
            self.mode, self.timeout, self.poke_interval = saved

    def on_kill(self) -> None:
        """SIGTERM in a CLI test run: fail now (raised into the waiting sensor), so the run ends failed."""
        day, self._waiting_in_cli_for = self._waiting_in_cli_for, None
        if day is not None:
            raise AirflowTaskTerminated(self._stopped_message(day, "SIGTERM"))
        super().on_kill()

    def _stopped_message(self, day: date, by: str) -> str:
        return f"wait_for_events stopped by {by} while waiting for day {day} (last check: {self._last_reason})"


def deduplicate_day(client, settings: Settings, day: date) -> int:
    """Delete the later copies of day ``day``'s event_ids (``sql/events/deduplicate.sql``); the rows deleted."""
    job = client.query(render_sql("events/deduplicate.sql", settings, ds=day.isoformat()))
    job.result()
    return job.num_dml_affected_rows or 0
