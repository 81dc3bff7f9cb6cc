"""Registers what Airflow must know by name: the daily DAG's timetable, and the "Pipeline health" page.

Airflow deserializes a DAG's custom timetable only if a plugin lists it, so the scheduler and the API server can
compute runs of ``game_analytics_daily``. The class itself lives in the ``game_analytics`` package.

The health page (game_analytics.health_ui: the page, its JSON API, runbooks and Prometheus ``/metrics``) is a FastAPI
app the api-server mounts at ``/pipeline-health``, with an entry in the UI's navigation that shows it inside the UI
(``/plugin/pipeline-health``). Every process that loads plugins (scheduler, dag-processor, workers) imports this
file, so the app is imported lazily, on the first request the api-server routes to it.
"""

from __future__ import annotations

import importlib

from airflow.plugins_manager import AirflowPlugin

from game_analytics.health.rules import HEALTH_PAGE_PATH
from game_analytics.timetables import DayAfterTimetable

HEALTH_PREFIX = HEALTH_PAGE_PATH


class LazyHealthApp:
    """An ASGI app that imports ``game_analytics.health_ui.app`` when it first receives a request."""

    def __init__(self, module: str = "game_analytics.health_ui.app"):
        self.module = module
        self._app = None

    async def __call__(self, scope, receive, send):
        if self._app is None:
            self._app = importlib.import_module(self.module).app
        await self._app(scope, receive, send)


class GameAnalyticsPlugin(AirflowPlugin):
    name = "game_analytics"
    timetables = [DayAfterTimetable]
    fastapi_apps = [{"app": LazyHealthApp(), "url_prefix": HEALTH_PREFIX, "name": "Pipeline health"}]
    external_views = [
        {
            "name": "Pipeline health",
            "href": f"{HEALTH_PREFIX}/",
            "destination": "nav",
            "url_route": "pipeline-health",
            "nav_top_level": True,
        }
    ]
