"""The "Pipeline health" page inside Airflow's UI, its JSON API, runbooks and Prometheus ``/metrics``.

app.py and auth.py run in the Airflow api-server (the plugin mounts the app); page.py, tiles.py, svg.py,
runbooks.py and prometheus.py render a :class:`game_analytics.health.snapshot.HealthSnapshot` without Airflow.
"""
