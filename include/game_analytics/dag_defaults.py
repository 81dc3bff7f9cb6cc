"""Defaults every DAG of the repository shares (the policy tests check them on the whole DagBag)."""

from __future__ import annotations

from datetime import timedelta

from game_analytics.config import load_settings

# The DAG ids, named here once: the DAG files, the catalogue's `built_by`, the demo and the tests use them.
INGEST_DAG = "game_events_ingest"
DAILY_DAG = "game_analytics_daily"
HEALTH_DAG = "pipeline_health"

DEFAULT_ARGS = {
    "owner": "game-analytics",
    "retries": 2,
    "retry_delay": timedelta(seconds=load_settings().retry_delay_seconds),
    "retry_exponential_backoff": True,
}
