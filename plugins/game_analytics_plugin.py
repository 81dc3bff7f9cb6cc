"""Registers what Airflow must know by name: the daily DAG's timetable, and the "Pipeline health" and "Game KPIs"
pages.

Airflow deserializes a DAG's custom timetable only if a plugin lists it, so the scheduler and the API server can
compute runs of ``game_analytics_daily``. The class itself lives in the ``game_analytics`` package.

The health page (game_analytics.health_ui: the page, its JSON API, runbooks and Prometheus ``/metrics``) is a FastAPI
app the api-server mounts at ``/pipeline-health``, with an entry in the UI's navigation that shows it inside the UI
(``/plugin/pipeline-health``). The "Game KPIs" page (game_analytics.kpi_ui: the page and its JSON) is a sibling app at
``/game-kpis`` behind the same auth, with its own entry (``/plugin/game-kpis``). Every process that loads plugins
(scheduler, dag-processor, workers) imports this file, so each app is imported lazily, on the first request the
api-server routes to it.
"""

from __future__ import annotations

import importlib

from airflow.plugins_manager import AirflowPlugin

from game_analytics.health.rules import HEALTH_PAGE_PATH
from game_analytics.kpi_ui import KPI_PAGE_PATH
from game_analytics.timetables import DayAfterTimetable

HEALTH_PREFIX = HEALTH_PAGE_PATH
KPI_PREFIX = KPI_PAGE_PATH


class LazyApp:
    """An ASGI app that imports ``module`` (and serves its ``app``) when it first receives a request."""

    def __init__(self, module: str):
        self.module = module
        self._app = None

    async def __call__(self, scope, receive, send):
        if self._app is None:
            self._app = importlib.import_module(self.module).app
        await self._app(scope, receive, send)


class GameAnalyticsPlugin(AirflowPlugin):
    name = "game_analytics"
    timetables = [DayAfterTimetable]
    fastapi_apps = [
        {"app": LazyApp("game_analytics.health_ui.app"), "url_prefix": HEALTH_PREFIX, "name": "Pipeline health"},
        {"app": LazyApp("game_analytics.kpi_ui.app"), "url_prefix": KPI_PREFIX, "name": "Game KPIs"},
    ]
    external_views = [
        {
            "name": name,
            "href": f"{prefix}/",
            "destination": "nav",
            "url_route": prefix.strip("/"),
            "nav_top_level": True,
        }
        for name, prefix in (("Pipeline health", HEALTH_PREFIX), ("Game KPIs", KPI_PREFIX))
    ]
