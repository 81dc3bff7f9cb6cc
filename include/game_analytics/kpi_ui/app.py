"""The "Game KPIs" FastAPI app that the Airflow plugin mounts at ``/game-kpis`` (Airflow layer).

Routes: ``/`` the page, ``/api/kpis`` the same numbers as JSON. Both depend on an authenticated Airflow user through
the health page's auth (health_ui/auth.py): an anonymous browser is sent to Airflow's login page, an anonymous API
call gets 401. Every request reads the tables as of now (kpi_ui/snapshot.py) through the health app's per-process
client. Handlers are plain functions, so FastAPI runs the blocking warehouse reads in its thread pool.
"""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import Depends, FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse

from game_analytics.config import load_settings
from game_analytics.health.rules import HEALTH_PAGE_PATH
from game_analytics.health_ui.app import base_path, warehouse_client
from game_analytics.health_ui.auth import LoginRequired, airflow_user, page_user, redirect_to_login
from game_analytics.kpi_ui.page import render_page
from game_analytics.kpi_ui.snapshot import KpiSnapshot, read_kpis

app = FastAPI(title="Game KPIs", docs_url=None, redoc_url=None, openapi_url=None)
app.add_exception_handler(LoginRequired, redirect_to_login)
NO_STORE = {"Cache-Control": "no-store"}  # live numbers: never from a cache


def _read() -> KpiSnapshot:
    settings = load_settings()
    return read_kpis(warehouse_client(settings), settings, datetime.now(UTC))


@app.get("/", response_class=HTMLResponse, dependencies=[Depends(page_user)])
def kpi_page(request: Request) -> HTMLResponse:
    return HTMLResponse(render_page(_read(), base_path(request), HEALTH_PAGE_PATH), headers=NO_STORE)


@app.get("/api/kpis", dependencies=[Depends(airflow_user)])
def kpi_json() -> JSONResponse:
    return JSONResponse(_read().to_json(), headers=NO_STORE)
