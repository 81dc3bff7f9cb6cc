"""Defaults every DAG of the repository shares (the policy tests check them on the whole DagBag)."""

from __future__ import annotations

from datetime import timedelta

DEFAULT_ARGS = {
    "owner": "game-analytics",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
    "retry_exponential_backoff": True,
}
