"""The "Pipeline health" FastAPI app that the Airflow plugin mounts at ``/pipeline-health`` (Airflow layer).

Routes: ``/`` the page, ``/api/summary`` its numbers as JSON, ``/runbooks`` the runbooks, ``/metrics`` the Prometheus
exposition. Each depends on an authenticated Airflow user (auth.py; ``/metrics`` also on a scrape token). Every
request reads the warehouse as of now (health/snapshot.py) through a client made once per process: the local stack
points it at the emulator (``BIGQUERY_EMULATOR_HOST``), GCP uses the api-server's Application Default Credentials.
Handlers are plain functions, so FastAPI runs the blocking warehouse reads in its thread pool.
"""

from __future__ import annotations

import functools
from datetime import UTC, datetime

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from game_analytics.config import Settings, load_settings
from game_analytics.health.rules import load_rules
from game_analytics.health.snapshot import read_metrics_snapshot, read_snapshot
from game_analytics.health_ui.auth import LoginRequired, airflow_user, metrics_reader, page_user, redirect_to_login
from game_analytics.health_ui.page import render_page, summary
from game_analytics.health_ui.prometheus import CONTENT_TYPE, exposition
from game_analytics.health_ui.runbooks import render_runbooks
from game_analytics.warehouse.client import bigquery_client

app = FastAPI(title="Pipeline health", docs_url=None, redoc_url=None, openapi_url=None)
app.add_exception_handler(LoginRequired, redirect_to_login)


@functools.cache
def warehouse_client(settings: Settings):
    """One client per process and settings (the "Game KPIs" app shares it)."""
    return bigquery_client(settings)


def _now() -> datetime:
    return datetime.now(UTC)


def base_path(request: Request) -> str:
    """Where the plugin mounted the app (``/pipeline-health``), for the page's own links."""
    return request.scope.get("root_path", "").rstrip("/")


@app.get("/", response_class=HTMLResponse, dependencies=[Depends(page_user)])
def health_page(request: Request) -> HTMLResponse:
    settings = load_settings()
    snapshot = read_snapshot(warehouse_client(settings), settings, _now())
    rules = {rule.name: rule for rule in load_rules(settings)}
    return HTMLResponse(render_page(snapshot, rules, base_path(request)), headers={"Cache-Control": "no-store"})


@app.get("/api/summary", dependencies=[Depends(airflow_user)])
def health_summary() -> JSONResponse:
    settings = load_settings()
    snapshot = read_snapshot(warehouse_client(settings), settings, _now())
    rules = {rule.name: rule for rule in load_rules(settings)}
    return JSONResponse(summary(snapshot, rules), headers={"Cache-Control": "no-store"})


@app.get("/runbooks", response_class=HTMLResponse, dependencies=[Depends(page_user)])
def runbooks(request: Request) -> HTMLResponse:
    settings = load_settings()
    return HTMLResponse(render_runbooks(settings, load_rules(settings), f"{base_path(request)}/"))


@app.get("/metrics", dependencies=[Depends(metrics_reader)])
def metrics() -> Response:
    settings = load_settings()
    snapshot = read_metrics_snapshot(warehouse_client(settings), settings, _now())
    return Response(exposition(snapshot), media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
