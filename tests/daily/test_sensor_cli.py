"""`airflow dags test` on a day without data ends: a CLI-sized timeout with a message, and SIGTERM stops it.

The README's example once named a day the demo has no data for: the sensor then looped "no events partition"
for its 12-hour timeout inside the CLI process, ignored SIGTERM and left a running run behind. These tests run
the real CLI against the emulator, with a metadata DB of their own (migrated once): a scheduler started by
other tests must not pick up the run that `dags test` creates. The days are pinned; the dataset is fresh, so
nothing is loaded for them.
"""

from __future__ import annotations

import os
import queue
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from game_analytics.dag_defaults import DAILY_DAG

pytestmark = [pytest.mark.stack, pytest.mark.airflow_e2e]

AIRFLOW = str(Path(sys.executable).parent / "airflow")
TIMEOUT_DAY = "2026-11-05"  # the README's old example
SIGTERM_DAY = "2026-11-06"


@pytest.fixture(scope="module")
def cli_home(local_stack, tmp_path_factory) -> Path:
    home = tmp_path_factory.mktemp("airflow-cli-home")
    migrate = subprocess.run([AIRFLOW, "db", "migrate"], env=airflow_env(home), capture_output=True, text=True)
    assert migrate.returncode == 0, migrate.stdout[-2000:] + migrate.stderr[-2000:]
    return home


def airflow_env(home: Path, **settings: str) -> dict[str, str]:
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}?timeout=60",
        "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(home / "logs"),
        **settings,
    }


def run_states(home: Path, day: str) -> list[str]:
    with sqlite3.connect(home / "airflow.db") as db:
        rows = db.execute("SELECT state, logical_date FROM dag_run WHERE dag_id = ?", (DAILY_DAG,)).fetchall()
    return [state for state, logical in rows if str(logical).startswith(day)]


def test_dags_test_without_data_ends_with_a_timeout_that_fits_a_cli_run(cli_home, settings):
    env = airflow_env(cli_home, GA_BQ_DATASET=settings.bq_dataset, GA_SENSOR_CLI_TIMEOUT_SECONDS="5")
    started = time.monotonic()
    try:
        done = subprocess.run(
            [AIRFLOW, "dags", "test", DAILY_DAG, TIMEOUT_DAY], env=env, capture_output=True, text=True, timeout=240
        )
    except subprocess.TimeoutExpired as exc:
        pytest.fail(f"`airflow dags test` on a day without data still waiting after {exc.timeout} s")
    output = done.stdout + done.stderr
    assert done.returncode != 0, output[-3000:]
    assert f"day {TIMEOUT_DAY} is not complete after 5 s" in output, output[-3000:]
    assert f"no events partition for {TIMEOUT_DAY} yet" in output
    assert "GA_SENSOR_CLI_TIMEOUT_SECONDS" in output and "pick a day that has data" in output
    assert run_states(cli_home, TIMEOUT_DAY) == ["failed"]
    print(f"dags test ended in {time.monotonic() - started:.0f} s")


def test_sigterm_stops_dags_test_while_the_sensor_waits(cli_home, settings):
    env = airflow_env(cli_home, GA_BQ_DATASET=settings.bq_dataset, GA_SENSOR_CLI_TIMEOUT_SECONDS="600")
    proc = subprocess.Popen(
        [AIRFLOW, "dags", "test", DAILY_DAG, SIGTERM_DAY],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    lines: queue.Queue[str] = queue.Queue()
    reader = threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True)
    reader.start()
    seen: list[str] = []
    try:
        deadline = time.monotonic() + 240
        while not any(f"no events partition for {SIGTERM_DAY}" in line for line in seen):
            assert proc.poll() is None, "".join(seen)[-3000:]
            assert time.monotonic() < deadline, "the sensor never started waiting:\n" + "".join(seen)[-3000:]
            try:
                seen.append(lines.get(timeout=1))
            except queue.Empty:
                pass
        proc.send_signal(signal.SIGTERM)
        signalled, signalled_at = time.monotonic(), datetime.now(UTC)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("`airflow dags test` ignored SIGTERM for 20 s")
        stopped_after = time.monotonic() - signalled
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    reader.join(timeout=5)
    while not lines.empty():
        seen.append(lines.get())
    output = "".join(seen)
    assert proc.returncode != 0
    assert f"stopped by SIGTERM while waiting for day {SIGTERM_DAY}" in output, output[-3000:]
    # The sensor fails at once; then dag.test's loop marks the downstream tasks (about 1 s per level) and the CLI
    # exits (about 7 s in all, up to 13 s seen on a busy machine: interpreter shut-down takes a few seconds).
    end_of_sensor = next(ln for ln in output.splitlines() if "end task task_id=wait_for_events" in ln)
    sensor_stopped_after = (datetime.fromisoformat(end_of_sensor.split()[0]) - signalled_at).total_seconds()
    assert sensor_stopped_after < 3, f"the sensor went on for {sensor_stopped_after:.1f} s after SIGTERM"
    assert stopped_after < 30, f"`airflow dags test` took {stopped_after:.1f} s to exit after SIGTERM"
    assert run_states(cli_home, SIGTERM_DAY) == ["failed"], "a SIGTERM must not leave a running run behind"
    print(f"sensor failed {sensor_stopped_after:.1f} s and dags test exited {stopped_after:.1f} s after SIGTERM")
