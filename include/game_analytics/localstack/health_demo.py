"""The `make run` demo's operations part: where the health page is, and one alert's whole life in the inbox.

After the pipeline demo, a planted burst of bad messages (half of a few hundred events, all of today) is ingested, so
the next ``pipeline_health`` run finds the DLQ rate above its threshold and ``high_dlq_rate`` notifies once; then
clean traffic is ingested and the following run notifies that it resolved. The local stack's webhook receiver
writes every notification it gets to its inbox (a JSON line each): the demo prints the ones of this demo. The
local stack measures the DLQ rate over the last ingestion run only (``GA_HEALTH_DLQ_RATE_RUNS=1``), so the
rule resolves after one clean run instead of three.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from game_analytics.config import Settings
from game_analytics.dag_defaults import HEALTH_DAG, INGEST_DAG
from game_analytics.health.lifecycle import subject_day
from game_analytics.health.rules import HEALTH_PAGE_PATH
from game_analytics.localstack.airflow_api import AirflowApi

BURST_EVENTS = 300
WATCHED_RULE = "high_dlq_rate"


def page_urls(airflow_port: int) -> list[str]:
    """The page inside the UI (navigation bar entry) and the page on its own."""
    base = f"http://localhost:{airflow_port}"
    return [f"{base}/plugin/{HEALTH_PAGE_PATH.strip('/')}", f"{base}{HEALTH_PAGE_PATH}/"]


def read_inbox(inbox: Path) -> list[dict]:
    if not inbox.exists():
        return []
    return [json.loads(line) for line in inbox.read_text().splitlines() if line.strip()]


def recent_events(seed: int, now: datetime, today_only: bool) -> list[dict]:
    """The last BURST_EVENTS simulated events before ``now`` (of today and yesterday, so there are enough at any
    hour); with ``today_only``, yesterday's are moved to today's midnight (UTC).

    The burst is kept within today: its bad messages would otherwise count against yesterday, a day the demo has
    built, and the next re-run of that day (a second `make run`) would rightly fail its DLQ-share check. The clean
    traffic keeps yesterday's events: they are the late events a re-run of yesterday must pick up.
    """
    from game_analytics.producer.simulation import generate_events

    first = (now - timedelta(days=1)).date()
    events = [e for e in generate_events(seed, first, 2, 200) if e["timestamp"] <= now.isoformat()][-BURST_EVENTS:]
    if not today_only:
        return events
    midnight = f"{now.date().isoformat()}T00:00:00.000Z"
    return [{**e, "timestamp": max(e["timestamp"], midnight)} for e in events]


def _produce_recent(env: dict[str, str], settings: Settings, bad_rate: float, seed: int, today_only: bool) -> int:
    """``recent_events`` to the raw topic, with ``bad_rate`` planted bad ones."""
    from game_analytics.producer.kafka import kafka_config_from_env, produce
    from game_analytics.producer.messages import make_messages

    now = datetime.now(UTC)
    events = recent_events(seed, now, today_only)
    messages = make_messages(events, fmt="json", bad_rate=bad_rate, seed=seed, now=now)
    return produce(messages, kafka_config_from_env(settings.kafka_conn_id, env), settings.raw_topic)


def summarise_firing(firing: list[str]) -> str:
    """The alerts firing (``rule[subject]``, as the health run lists them), one entry per rule: the subjects about
    a day (:func:`~game_analytics.health.lifecycle.subject_day`) of one check, DAG or rule as that name with its
    count of days and their range, so thirty days of one warning read as one line."""
    if not firing:
        return "nothing"
    by_rule: dict[str, dict[str, list[str]]] = {}
    for alert in firing:
        rule, _, subject = alert.partition("[")
        subject = subject.removesuffix("]")
        day = subject_day(subject)
        name = subject.removesuffix(day.isoformat()).removesuffix("@") if day else subject
        by_rule.setdefault(rule, {}).setdefault(name, []).extend([day.isoformat()] if day else [])
    parts = []
    for rule, names in by_rule.items():
        listed = [_with_days(name, days) for name, days in names.items() if name or days]
        parts.append(f"{rule} ({'; '.join(listed)})" if listed else rule)
    return ", ".join(parts)


def _with_days(name: str, days: list[str]) -> str:
    if len(days) > 1:
        return f"{name} on {len(days)} days, {min(days)} to {max(days)}".lstrip()
    return "@".join(filter(None, [name, *days]))


def _ingest_then_check(api: AirflowApi, say) -> list[str]:
    """One ingestion run, then one health run; the alerts firing after it."""
    for dag_id in (INGEST_DAG, HEALTH_DAG):
        run = api.run_now(dag_id)
        if run["state"] != "success":
            raise RuntimeError(f"{dag_id} run {run['dag_run_id']} ended {run['state']}; see its task logs")
    report = api.xcom(HEALTH_DAG, run["dag_run_id"], "check_health") or {}
    firing = report.get("firing", [])
    say(f"  {HEALTH_DAG}: firing now: {summarise_firing(firing)}")
    return firing


def show_alert_lifecycle(env: dict[str, str], settings: Settings, api: AirflowApi, inbox: Path, say=print) -> bool:
    """Plant a burst of bad messages, then clean traffic, printing what the inbox got meanwhile; whether the
    watched rule fired on the burst and resolved after it."""
    api.wait_for_dags({HEALTH_DAG})
    before = len(read_inbox(inbox))
    say("health: a clean ingestion first, then a burst of bad messages, then clean traffic again")
    _ingest_then_check(api, say)
    # New traffic at every start: the same seeds would resend an earlier start's events, which the daily
    # de-duplication rightly keeps once, and the same bad messages, whose DLQ rate says nothing new.
    seed = int(datetime.now(UTC).timestamp())
    sent = _produce_recent(env, settings, bad_rate=0.5, seed=seed, today_only=True)
    say(f"  planted a burst: {sent} messages, about half of them bad")
    burst = _ingest_then_check(api, say)
    sent = _produce_recent(env, settings, bad_rate=0.0, seed=seed + 1, today_only=False)
    say(f"  clean traffic: {sent} messages")
    after = _ingest_then_check(api, say)
    received = read_inbox(inbox)[before:]
    say(f"  the local receiver's inbox ({inbox}) got {len(received)} notification(s):")
    for note in received:
        subject = f"[{note['subject']}]" if note.get("subject") else ""
        say(f"    {note.get('kind', '?'):9} {note.get('rule', '?')}{subject}: {note.get('message', '')}")
    fired = any(f.startswith(WATCHED_RULE) for f in burst)
    resolved = not any(f.startswith(WATCHED_RULE) for f in after)
    say(f"  {WATCHED_RULE}: {'fired' if fired else 'did NOT fire'} on the burst, "
        f"{'resolved' if resolved else 'still firing'} after clean traffic")  # fmt: skip
    return fired and resolved
