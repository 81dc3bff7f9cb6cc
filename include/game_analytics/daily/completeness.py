"""Is day D complete? The `events` partition for D exists and ingestion has moved past the end of D.

The ingestion DAG writes one ``ingestion_watermarks`` row per partition of the raw topic after every run, with
``caught_up_at`` = the time at which it had read everything that partition held. D is complete when every
partition has ``caught_up_at >= D+1 00:00 UTC + grace``: anything a client sent before then is in the warehouse.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from airflow.sdk import BaseSensorOperator
from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout

from game_analytics.config import Settings, load_settings


@dataclass(frozen=True)
class Completeness:
    complete: bool
    reason: str


def processed_day(context) -> date:
    """Day D of a run: the UTC day of its logical date. A run without one fails here, first, and says how to fix it.

    Airflow 3 creates runs without a logical date (``airflow dags trigger`` without ``-l``, a REST trigger with
    ``"logical_date": null``); every template of this DAG needs ``ds``, so failing later would be less clear.
    """
    logical_date = context.get("logical_date")
    if logical_date is None:
        raise AirflowFailException(
            "game_analytics_daily processes the UTC day of its logical date, and this run has none. Trigger it with "
            "one: `airflow dags trigger game_analytics_daily -l 2026-11-22T00:00:00+00:00`, or pick the day in the "
            "UI's trigger form; for several days use `airflow backfill create`."
        )
    return date.fromisoformat(context["ds"])


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
    """Two cheap metadata reads: the partition list and the watermark rows of the raw topic."""
    partitions = client.query(
        f"SELECT partition_id FROM `{settings.bq_project}.{settings.bq_dataset}.INFORMATION_SCHEMA.PARTITIONS` "
        f"WHERE table_name = 'events' AND partition_id = '{day:%Y%m%d}' AND total_rows > 0"
    ).result()
    watermarks = client.query(
        f"SELECT `partition`, caught_up_at FROM {settings.table('ingestion_watermarks')} "
        f"WHERE topic = '{settings.raw_topic}'"
    ).result()
    return day_status(day, partitions.total_rows > 0, [dict(r) for r in watermarks], settings.completeness_grace)


class DayCompleteSensor(BaseSensorOperator):
    """Waits for day D (``ds``) without holding a worker slot (reschedule mode)."""

    def __init__(self, **kwargs):
        settings = load_settings()
        kwargs.setdefault("mode", "reschedule")
        kwargs.setdefault("poke_interval", settings.sensor_poke_seconds)
        kwargs.setdefault("timeout", settings.sensor_timeout_hours * 3600)
        super().__init__(**kwargs)
        self._last_reason = "not checked yet"

    def poke(self, context) -> bool:
        from game_analytics.warehouse.client import airflow_bigquery_client

        settings = load_settings()
        day = processed_day(context)
        status = fetch_status(airflow_bigquery_client(settings), settings, day)
        self._last_reason = status.reason
        self.log.info("%s", status.reason)
        return status.complete

    def execute(self, context):
        try:
            return super().execute(context)
        except AirflowSensorTimeout as exc:
            day = processed_day(context)
            raise AirflowSensorTimeout(
                f"day {day} still incomplete after {self.timeout:.0f} s (GA_SENSOR_TIMEOUT_HOURS): {self._last_reason}"
            ) from exc
