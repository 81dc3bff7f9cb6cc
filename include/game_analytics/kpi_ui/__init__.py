"""The "Game KPIs" page inside Airflow's UI and its JSON: players, retention, stickiness, levels and today so far.

app.py runs in the Airflow api-server (the plugin mounts it at :data:`KPI_PAGE_PATH`, behind the health page's auth);
snapshot.py reads the tables, page.py and charts.py render a :class:`~game_analytics.kpi_ui.snapshot.KpiSnapshot`,
all three without Airflow. This module stays import-free: the plugin, loaded by every Airflow process, reads the path.
"""

KPI_PAGE_PATH = "/game-kpis"
