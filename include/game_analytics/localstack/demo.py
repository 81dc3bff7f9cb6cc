"""The `make run` demo: synthetic events through Kafka, the ingestion DAG, a backfill of the daily DAG, a summary.

The producer sends a few days of events (JSON and Avro, 1 % planted bad messages) to the raw topic; a run of
`game_events_ingest` loads them (bad ones to the dead-letter path) and records the watermarks; then
`game_analytics_daily` is backfilled over the last days; then an alert's whole life is shown (health_demo.py).
`make run ONCE=1` exits after the summary, non-zero if any run failed or the alert did not fire and resolve; plain
`make run` then keeps a live trickle of today's events flowing (ingested every 10 minutes).
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from game_analytics.config import Settings, load_settings
from game_analytics.dag_defaults import DAILY_DAG, INGEST_DAG
from game_analytics.daily.days import completable_days
from game_analytics.localstack.airflow_api import POLL_SECONDS, AirflowApi
from game_analytics.localstack.environment import StateDirs
from game_analytics.localstack.health_demo import page_urls, show_alert_lifecycle
from game_analytics.warehouse.client import bigquery_client, query_rows
from game_analytics.warehouse.sql_templates import render_sql

HISTORY_DAYS = 7  # extra days before the backfill window, so the volume check has a trailing average


def summary_tables(settings: Settings) -> dict[str, str]:
    """Table -> its day column, for the tables the summary counts per day: what was ingested and what was built."""
    from game_analytics.catalogue import load_catalogue

    kinds = ("source", "metric", "state")
    return {t.name: t.day_column for t in load_catalogue(settings).created() if t.kind in kinds and t.day_column}


def stream_events(env: dict[str, str], settings: Settings, first: date, days: int, players: int, seed: int) -> int:
    """Produce the days' events to the raw topic: JSON and Avro mixed, about 1 % planted bad messages."""
    from game_analytics.producer.kafka import kafka_config_from_env, produce
    from game_analytics.producer.messages import make_messages
    from game_analytics.producer.simulation import generate_events

    events = generate_events(seed, first, days, players)
    messages = make_messages(events, fmt="mixed", bad_rate=0.01, seed=seed, now=datetime.now(UTC))
    return produce(messages, kafka_config_from_env(settings.kafka_conn_id, env), settings.raw_topic)


def live_trickle(env: dict[str, str], settings: Settings, players: int, seed: int, per_second: float = 20) -> None:
    """Keep sending today's events that have already happened, paced like live traffic (a daemon thread)."""
    import threading

    from game_analytics.producer.kafka import kafka_config_from_env, produce
    from game_analytics.producer.messages import make_messages
    from game_analytics.producer.simulation import generate_events

    def run() -> None:
        now = datetime.now(UTC)
        today = [e for e in generate_events(seed, now.date(), 1, players) if e["timestamp"] <= now.isoformat()]
        produce(make_messages(today, fmt="mixed"), kafka_config_from_env(settings.kafka_conn_id, env),
                settings.raw_topic, events_per_second=per_second)  # fmt: skip

    threading.Thread(target=run, name="live-trickle", daemon=True).start()


def ingest_now(api: AirflowApi, since: datetime) -> dict:
    """Trigger `game_events_ingest`, wait for it, then total the reports of its successful runs since ``since``.

    The scheduled run may already have drained part of the topic when this run starts, so this run alone could
    report 0; the sum over the runs of this start of the stack (the broker is new at each start, while Airflow's
    database keeps earlier starts' runs) is what the topic delivered.
    """
    api.wait_for_dags({INGEST_DAG})
    finished = api.run_now(INGEST_DAG)
    if finished["state"] != "success":
        raise RuntimeError(f"{INGEST_DAG} run {finished['dag_run_id']} ended {finished['state']}; see its task logs")
    summed = ("consumed", "loaded", "dead_lettered", "already_stored", "already_dead_lettered", "seconds")
    totals = {"runs": 0, **dict.fromkeys(summed, 0), "consumer_lag": None}
    runs = api.get(f"/api/v2/dags/{INGEST_DAG}/dagRuns", start_date_gte=since.isoformat(), limit=100)["dag_runs"]
    for past in runs:
        if past["state"] != "success":
            continue
        shards = [r for r in api.xcoms_of_every_map_index(INGEST_DAG, past["dag_run_id"], "ingest") if r]
        totals["runs"] += 1
        for key in summed:
            totals[key] += sum(report.get(key) or 0 for report in shards)
        if past["dag_run_id"] == finished["dag_run_id"]:  # the lag after the newest run, over its shards
            lags = [report.get("consumer_lag") for report in shards]
            totals["consumer_lag"] = None if None in lags or not lags else sum(lags)
    return totals


def cancel_stale_backfills(api: AirflowApi, dag_id: str, started_before: datetime) -> list[int]:
    """Cancel the unfinished backfills of ``dag_id`` created before ``started_before`` (an earlier start of the
    stack): their scheduler is gone, and Airflow refuses a new backfill of a DAG while one is running.

    Cancelling fails their queued runs (a new backfill with ``--reprocess-behavior completed`` runs those days
    again); a run already running is left to the new scheduler, which adopts it.
    """
    cancelled = []
    for found in api.unfinished_backfills(dag_id):
        if datetime.fromisoformat(found["created_at"].replace("Z", "+00:00")) < started_before:
            api.put(f"/api/v2/backfills/{found['id']}/cancel")
            cancelled.append(found["id"])
    # The API may answer before its session's last write (completed_at) is committed: wait until it is visible,
    # or the next `backfill create` can still see the backfill running.
    deadline = time.monotonic() + 30
    while any(api.get(f"/api/v2/backfills/{i}")["completed_at"] is None for i in cancelled):
        if time.monotonic() > deadline:
            raise TimeoutError(f"cancelled backfills {cancelled} of {dag_id} still not completed after 30 s")
        time.sleep(0.5)
    return cancelled


def backfill(env: dict[str, str], first: date, last: date) -> None:
    argv = [
        str(Path(sys.executable).parent / "airflow"), "backfill", "create", "--dag-id", DAILY_DAG,
        "--from-date", first.isoformat(), "--to-date", last.isoformat(), "--reprocess-behavior", "completed",
    ]  # fmt: skip
    done = subprocess.run(argv, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"airflow backfill create failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")


UNFINISHED = ("queued", "running")
BACKFILL_ROUNDS = 3  # backfills of the days a run in flight made the previous one skip (see recompute_days)


def _say(line: str) -> None:
    print(line, flush=True)


def _instant(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value.replace("Z", "+00:00")) if value else None


def day_runs(api: AirflowApi, first: date, last: date) -> list[dict]:
    """Every run of the daily DAG whose logical date is on a day from ``first`` to ``last`` (one per day: Airflow
    keeps one run per logical date, which a backfill re-queues rather than duplicates)."""
    return api.get(
        f"/api/v2/dags/{DAILY_DAG}/dagRuns",
        logical_date_gte=f"{first.isoformat()}T00:00:00+00:00",
        logical_date_lte=f"{last.isoformat()}T23:59:59.999999+00:00",
        order_by="logical_date",
        limit=100,
    )["dag_runs"]


def wait_until_settled(api: AirflowApi, first: date, last: date, timeout: float = 900, say=_say) -> None:
    """Wait until no run of the daily DAG for a day from ``first`` to ``last`` is queued or running.

    Such a run (the scheduled run of the newest day, which the scheduler creates as soon as it starts, or one
    someone triggered) will finish: its day's events are loaded. The timeout's error names the runs and states.
    """
    deadline, said = time.monotonic() + timeout, False
    while busy := [r for r in day_runs(api, first, last) if r["state"] in UNFINISHED]:
        named = ", ".join(f"{r['dag_run_id']} ({r['run_type']}, {r['state']})" for r in busy)
        if time.monotonic() > deadline:
            raise TimeoutError(
                f"{DAILY_DAG} runs for {first} .. {last} still unfinished after {timeout:.0f} s, so a backfill "
                f"would skip their days: {named}"
            )
        if not said:
            say(f"waiting for {named} to finish before backfilling (a backfill skips a day whose run is in flight)")
            said = True
        time.sleep(POLL_SECONDS)


def newest_backfill(api: AirflowApi) -> dict | None:
    found = api.get("/api/v2/backfills", dag_id=DAILY_DAG, limit=1, order_by="-id")["backfills"]
    return found[0] if found else None


def wait_for_backfill(api: AirflowApi, created: dict, first: date, last: date, timeout: float = 900) -> dict[str, dict]:
    """Wait until the backfill ``created`` is completed; its runs, by day.

    A run is the backfill's when its ``run_type`` is ``backfill`` and it was queued after the backfill was created
    (the REST API does not show a run's backfill id): a day's earlier run, re-run by this backfill, is re-queued
    then; one left over from an earlier backfill is not. The scheduler sets ``completed_at`` when none of the
    backfill's runs is queued or running any more, checking every 30 s.
    """
    since, path = _instant(created["created_at"]), f"/api/v2/backfills/{created['id']}"
    deadline, own = time.monotonic() + timeout, {}
    while True:
        completed = api.get(path)["completed_at"] is not None
        own = {
            r["logical_date"][:10]: r
            for r in day_runs(api, first, last)
            if r["run_type"] == "backfill" and (_instant(r["queued_at"]) or since - timedelta(1)) >= since
        }
        if completed and all(r["state"] not in UNFINISHED for r in own.values()):
            return own
        if time.monotonic() > deadline:
            states = {day: r["state"] for day, r in own.items()}
            raise TimeoutError(f"backfill {created['id']} of {DAILY_DAG} not completed after {timeout:.0f} s: {states}")
        time.sleep(POLL_SECONDS)


def recompute_days(env: dict[str, str], api: AirflowApi, first: date, last: date, timeout: float = 900, say=_say):
    """Backfill the daily DAG from ``first`` to ``last`` so that every day is computed again from the current data
    (late events included); the backfill's run of each day, by day, once the backfill is completed.

    What Airflow 3.3 does (``airflow/models/backfill.py``): ``_create_backfill`` refuses a backfill while another
    of the DAG has no ``completed_at`` (``AlreadyRunningBackfill``); for each day, a day without a run gets a new
    backfill run, and a day whose run has *finished* is cleared and re-queued as this backfill's run
    (``--reprocess-behavior completed``), but a day whose run is still queued or running is only recorded as
    skipped ("in flight"): the backfill gets no run for it, nothing re-runs it, and the backfill completes
    without it. At start the scheduler creates the scheduled run of the newest day (``catchup=False``), so a
    backfill created while that run is in flight silently leaves that day as the in-flight run computes it.

    So: wait until no run of a day of the window is unfinished (``wait_until_settled``), create the backfill, and
    wait for *its* runs (``wait_for_backfill``), not for "the newest run of each day". A run created in between
    (a scheduled run falling due, someone's trigger) can still be skipped: the days left without a run of the
    backfill get another backfill, up to ``BACKFILL_ROUNDS`` in all.
    """
    days = [(first + timedelta(days=n)).isoformat() for n in range((last - first).days + 1)]
    runs: dict[str, dict] = {}
    todo = days
    for _ in range(BACKFILL_ROUNDS):
        low, high = date.fromisoformat(todo[0]), date.fromisoformat(todo[-1])
        wait_until_settled(api, low, high, timeout, say)
        before = newest_backfill(api)
        backfill(env, low, high)
        created = newest_backfill(api)
        if created is None or (before is not None and created["id"] == before["id"]):
            raise RuntimeError(f"airflow backfill create for {low} .. {high} succeeded but no new backfill is listed")
        runs.update(wait_for_backfill(api, created, low, high, timeout))
        todo = [day for day in days if day not in runs]
        if not todo:
            return runs
        say(f"backfill {created['id']} skipped {', '.join(todo)} (a run was in flight): backfilling them again")
    raise RuntimeError(f"{DAILY_DAG}: {', '.join(todo)} got no backfill run in {BACKFILL_ROUNDS} backfills")


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
            for table, col in summary_tables(settings).items()
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
        for metrics in sorted(local_path(settings.model_uri(day)).glob("*/metrics.json")):  # one folder per model
            m = json.loads(metrics.read_text())
            lines.append(
                f"    model trained: rows={m['rows']} features={len(m['features'])} mae={m['mae']:.4f} r2={m['r2']}"
            )
    return "\n".join(lines)


def kpi_summary(settings: Settings, days: list[str]) -> str:
    """The game team's figures of the backfilled days: DAU, new players and lifetime revenue of the last day
    (daily_summary), and the D1 and D7 retention of the first cohort (retention; the backfill's first day starts the
    player history, so its cohort is everyone seen that day)."""
    client = bigquery_client(settings)
    last = days[-1]
    summary = query_rows(client, render_sql("daily_summary/kpi_days.sql", settings, first_day=last, last_day=last))
    lines = ["", "== game KPIs =="]
    for row in summary:
        lines.append(
            f"{row['date']}  DAU {row['dau']}, new players {row['new_players']}, "
            f"lifetime revenue ${row['lifetime_revenue_usd']:.2f} ({row['total_players']} players since {days[0]})"
        )
    cohort = days[0]
    measured = render_sql("retention/kpi_cohorts.sql", settings, first_day=days[1], last_day=last)
    for row in query_rows(client, measured) if len(days) > 1 else []:
        if str(row["cohort_date"]) == cohort and row["platform"] == "all":
            lines.append(
                f"D{row['day_n']} retention of the {cohort} cohort: {row['retention_rate']:.1%} "
                f"({row['retained_users']} of {row['cohort_size']} players)"
            )
    if len(lines) == 2:
        lines.append(f"no daily_summary for {days[-1]} and no retention for the {cohort} cohort: see the runs above")
    return "\n".join(lines)


def run_demo(
    env: dict[str, str], airflow_port: int, since: datetime, days: int = 8, players: int = 300, seed: int = 7
) -> int:
    """Load, backfill, wait, print the summary, show an alert fire and resolve; return the number of failures."""
    settings = load_settings(env)
    # Days whose runs can go through now: never "yesterday" before its completeness grace has passed.
    window = completable_days(datetime.now(UTC), settings.completeness_grace, days)
    first_loaded = window[0] - timedelta(days=HISTORY_DAYS)
    sent = stream_events(env, settings, first_loaded, HISTORY_DAYS + days, players, seed)
    print(f"produced {sent} messages for {first_loaded} .. {window[-1]} to {settings.raw_topic}", flush=True)
    api = AirflowApi(airflow_port)
    api.wait_for_dags({DAILY_DAG, INGEST_DAG})
    report = ingest_now(api, since)
    print(
        f"{INGEST_DAG}: {report['runs']} run(s) consumed {report['consumed']}, loaded {report['loaded']}, "
        f"dead-lettered {report['dead_lettered']}, already stored {report['already_stored']}, "
        f"already dead-lettered {report['already_dead_lettered']}, "
        f"lag after {report['consumer_lag']}, {report['consumed'] / max(report['seconds'], 1e-9):.0f} events/s",
        flush=True,
    )
    for stale in cancel_stale_backfills(api, DAILY_DAG, since):
        print(f"cancelled backfill {stale} of {DAILY_DAG}, left unfinished by an earlier start", flush=True)
    print(f"backfilling {DAILY_DAG} for {window[0]} .. {window[-1]} (watch it in the UI)", flush=True)
    names = [d.isoformat() for d in window]
    runs = recompute_days(env, api, window[0], window[-1])
    print(summarize(api, settings, names, runs), flush=True)
    print(kpi_summary(settings, names), flush=True)
    failed = sum(run["state"] != "success" for run in runs.values())
    print(f"Pipeline health page: {'  or  '.join(page_urls(airflow_port))}", flush=True)
    alert_ok = show_alert_lifecycle(env, settings, api, StateDirs(Path(env["GA_STATE_DIR"])).alert_inbox)
    return failed + (not alert_ok)
