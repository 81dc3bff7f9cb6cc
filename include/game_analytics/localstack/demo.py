"""The `make run` demo: synthetic events for the last days, a backfill of the daily DAG over them, a summary.

Until the Kafka ingestion lands, events are enriched and loaded straight into `events` and the watermarks are set
as the ingestion would set them after reading everything. `make run ONCE=1` exits after the summary, non-zero if
any run failed.
"""

from __future__ import annotations

import json
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from game_analytics.config import Settings, load_settings
from game_analytics.localstack.airflow_api import AirflowApi
from game_analytics.localstack.environment import RAW_TOPIC_PARTITIONS
from game_analytics.warehouse.client import bigquery_client, query_rows

DAILY_DAG = "game_analytics_daily"
HISTORY_DAYS = 7  # extra days before the backfill window, so the volume check has a trailing average
TABLES = {
    "events": "event_date",
    "level_metrics": "date",
    "user_daily_metrics": "date",
    "revenue_daily_metrics": "date",
}


def demo_days(today: date, days: int) -> list[date]:
    """The last ``days`` complete UTC days before ``today``."""
    return [today - timedelta(days=n) for n in range(days, 0, -1)]


def load_events(settings: Settings, first: date, days: int, players: int, seed: int) -> int:
    """Generate, enrich and load events (idempotent: a second load of the same seed adds nothing)."""
    from game_analytics.events.enrich import enrich, load_rows
    from game_analytics.producer.simulation import generate_events
    from game_analytics.warehouse.schema import create_dataset_and_tables
    from game_analytics.warehouse.watermarks import Watermark, record_watermarks

    client = bigquery_client(settings)
    create_dataset_and_tables(client, settings)
    now = datetime.now(UTC)
    rows = [enrich(e, now, None) for e in generate_events(seed, first, days, players)]
    loaded = load_rows(client, settings, rows)
    marks = [Watermark(settings.raw_topic, p, now, None, None) for p in range(RAW_TOPIC_PARTITIONS)]
    record_watermarks(client, settings, marks)
    return loaded


def backfill(env: dict[str, str], first: date, last: date) -> None:
    argv = [
        str(Path(sys.executable).parent / "airflow"), "backfill", "create", "--dag-id", DAILY_DAG,
        "--from-date", first.isoformat(), "--to-date", last.isoformat(), "--reprocess-behavior", "completed",
    ]  # fmt: skip
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"airflow backfill create failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


def summarize(api: AirflowApi, settings: Settings, days: list[str], runs: dict[str, dict]) -> str:
    from game_analytics.storage import local_path

    client = bigquery_client(settings)
    lines = ["", f"== {DAILY_DAG}: {len(days)} day(s) =="]
    for day in days:
        run = runs.get(day, {})
        counts = {
            table: query_rows(client, f"SELECT COUNT(*) AS n FROM {settings.table(table)} WHERE {col} = '{day}'")[0][
                "n"
            ]
            for table, col in TABLES.items()
        }
        lines.append(
            f"{day}  run {run.get('state', 'missing'):8}  rows " + ", ".join(f"{t}={n}" for t, n in counts.items())
        )
        passed, warnings = 0, []
        for ti in api.task_instances(DAILY_DAG, run["dag_run_id"]) if run else []:
            if ti["task_id"].startswith("checks_") and ti["state"] == "success":
                result = api.xcom(DAILY_DAG, run["dag_run_id"], ti["task_id"]) or {}
                passed += len(result.get("passed", []))
                warnings += result.get("warnings", [])
            elif ti["state"] not in ("success", "skipped"):
                lines.append(f"    task {ti['task_id']}: {ti['state']}")
        lines.append(f"    checks: {passed} passed, {len(warnings)} warning(s)")
        lines.extend(f"    {w}" for w in warnings)
        metrics = local_path(settings.model_uri(day)) / "metrics.json"
        if metrics.exists():
            m = json.loads(metrics.read_text())
            lines.append(
                f"    model trained: rows={m['rows']} features={len(m['features'])} mae={m['mae']:.4f} r2={m['r2']}"
            )
    return "\n".join(lines)


def run_demo(env: dict[str, str], airflow_port: int, days: int = 3, players: int = 300, seed: int = 7) -> int:
    """Load, backfill, wait, print the summary; return the number of failed runs."""
    settings = load_settings(env)
    window = demo_days(datetime.now(UTC).date(), days)
    first_loaded = window[0] - timedelta(days=HISTORY_DAYS)
    loaded = load_events(settings, first_loaded, HISTORY_DAYS + days, players, seed)
    print(f"loaded {loaded} events for {first_loaded} .. {window[-1]} into {settings.table('events')}", flush=True)
    api = AirflowApi(airflow_port)
    api.wait_for_dags({DAILY_DAG})
    backfill(env, window[0], window[-1])
    print(f"backfilling {DAILY_DAG} for {window[0]} .. {window[-1]} (watch it in the UI)", flush=True)
    names = [d.isoformat() for d in window]
    runs = api.wait_for_runs(DAILY_DAG, names)
    print(summarize(api, settings, names, runs), flush=True)
    return sum(run["state"] != "success" for run in runs.values())
