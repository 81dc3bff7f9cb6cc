"""Registers what Airflow must know by name: the daily DAG's timetable.

Airflow deserializes a DAG's custom timetable only if a plugin lists it, so the scheduler and the API server can
compute runs of ``game_analytics_daily``. The class itself lives in the ``game_analytics`` package.
"""

from airflow.plugins_manager import AirflowPlugin

from game_analytics.timetables import DayAfterTimetable


class GameAnalyticsPlugin(AirflowPlugin):
    name = "game_analytics"
    timetables = [DayAfterTimetable]
