"""Imported by every Python process started with this folder on PYTHONPATH (see scripts/test-at): the process's
clock runs ``GA_FAKE_CLOCK_OFFSET_SECONDS`` away from the real one, and ticks.

An offset, not an instant, so that processes started minutes apart (the suite, Airflow's components, the task
processes, the BigQuery emulator) agree on the time. time-machine moves what Python code reads (``time.time``,
``datetime.now``, ``date.today``); C libraries keep the real clock: librdkafka (Kafka client timestamps and
timeouts), DuckDB's and SQLite's ``now()``. libfaketime, which moves those too, hangs librdkafka.
"""

import os

_offset = os.environ.get("GA_FAKE_CLOCK_OFFSET_SECONDS")
if _offset:
    from datetime import UTC, datetime, timedelta

    import time_machine

    time_machine.travel(datetime.now(UTC) + timedelta(seconds=float(_offset)), tick=True).start()
