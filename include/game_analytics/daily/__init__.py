"""Building blocks of the ``game_analytics_daily`` DAG (the DAG file only wires them)."""
