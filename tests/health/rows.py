"""Seed rows of the health tests, relative to the measured instant ``now`` (naive UTC where tests/sql/rows.py's
inserts want it)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from tests.sql.rows import event


def naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None)


def ingested_event(event_type: int, at: datetime, ingested_at: datetime | None = None) -> dict:
    """An ``events`` row whose event time is ``at`` and that was stored at ``ingested_at`` (default ``at``)."""
    return event(event_type, "u1", naive(at), ingested_at=naive(ingested_at or at))


def run_row(finished_at: datetime, consumed: int, dead: dict[str, int] | None = None, eps: float = 10.0) -> dict:
    """An ``ingestion_runs`` row that finished at ``finished_at`` (a 1-minute run)."""
    dead = dead or {}
    return {
        "run_id": f"run-{finished_at.isoformat()}",
        "consumer_group": "game-events-ingest",
        "started_at": naive(finished_at - timedelta(minutes=1)),
        "finished_at": naive(finished_at),
        "consumed": consumed,
        "loaded": consumed - sum(dead.values()),
        "duplicates": 0,
        "dead_lettered": sum(dead.values()),
        "already_dead_lettered": 0,
        "dead_lettered_by_reason": json.dumps(dead),
        "seconds": 60.0,
        "events_per_second": eps,
        "consumer_lag": 0,
        "stopped_because": "caught_up",
    }


def by_subject(measurements, metric: str) -> dict[str, float]:
    return {m.subject: m.value for m in measurements if m.metric == metric}


def single(measurements, metric: str) -> float:
    values = by_subject(measurements, metric)
    assert list(values) == [""], f"{metric}: {values}"
    return values[""]
