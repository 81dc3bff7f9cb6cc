"""The launcher behind `make run`: servers come up healthy, clashes are explained, Ctrl-C leaves nothing behind."""

from __future__ import annotations

import ipaddress
import json
import os
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from game_analytics.localstack import bq_emulator
from game_analytics.localstack.airflow_api import AirflowApi
from game_analytics.localstack.environment import METADATA_DB, METADATA_DB_USER, REPO_ROOT, StackPorts, StateDirs
from game_analytics.localstack.launcher import LocalStack
from game_analytics.localstack.servers import StackError, free_port

AIRFLOW = str(Path(sys.executable).parent / "airflow")


def all_free_ports() -> StackPorts:
    return StackPorts(
        bigquery=free_port(), bigquery_grpc=free_port(), kafka=free_port(), airflow=free_port(), postgres=free_port()
    )


@pytest.fixture
def state_root():
    """A state folder the local PostgreSQL can reach when the suite runs as root (PostgreSQL then runs as nobody):
    right under the temp folder, as the suite's own (pytest's tmp_path is under a 0700 folder, pytest-of-root)."""
    root = Path(tempfile.mkdtemp(prefix="game-analytics-launcher-test-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


def test_bq_emulator_patch_targets_exist():
    """Fails loudly when bqemulator renames what we patch (see bq_emulator.py)."""
    import importlib

    for module, cls, method in bq_emulator.PATCH_TARGETS:
        assert callable(getattr(getattr(importlib.import_module(module), cls), method)), (module, cls, method)


def test_no_snapshot_copy_without_retention_but_the_change_is_published():
    """In a fresh interpreter (the patch is global): retention 0 skips the table copy, retention 7 still copies."""
    probe = """
from types import SimpleNamespace
from game_analytics.localstack import bq_emulator
bq_emulator.skip_snapshots_without_retention()
from bqemulator.versioning.snapshots import SnapshotManager
for days in (0, 7):
    published, copies = [], []
    fake = SimpleNamespace(_retention_days=days, _events=SimpleNamespace(publish=published.append),
                           capture=lambda *a, **k: copies.append(a))
    SnapshotManager.record_change(fake, "p", "d", "t")
    print(days, len(copies), [type(e).__name__ for e in published])
"""
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert out.splitlines() == ["0 0 ['TableDataChanged']", "7 1 ['TableDataChanged']"], out


def test_taken_port_names_port_and_setting(tmp_path):
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        ports = StackPorts(bigquery=free_port(), bigquery_grpc=free_port(), kafka=port, airflow=free_port())
        with pytest.raises(StackError) as err:
            LocalStack(tmp_path, ports, with_airflow=False, say=lambda _m: None).start()
    assert f"port {port}" in str(err.value) and "GA_KAFKA_PORT" in str(err.value)


@pytest.mark.airflow_e2e
def test_make_run_serves_dags_and_ctrl_c_stops_everything(state_root):
    """`make run` as a user runs it: UI and REST API on the port, DAGs listed unpaused, then Ctrl-C."""
    ports = all_free_ports()
    env = {**os.environ, "GA_STATE_DIR": str(state_root)}
    env.update({var: str(getattr(ports, name)) for name, var in StackPorts.SETTINGS.items()})
    make = subprocess.Popen(
        ["make", "run"], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
        text=True, start_new_session=True,
        # As in a terminal: a suite started as a background job inherits SIGINT ignored (so would make run).
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )  # fmt: skip
    output = []
    try:
        for line in make.stdout:
            output.append(line)
            if "Ctrl-C stops" in line or make.poll() is not None:
                break
        assert "Ctrl-C stops" in "".join(output), "".join(output)
        assert f"http://localhost:{ports.airflow}" in "".join(output)
        api = AirflowApi(ports.airflow)
        dags = api.wait_for_dags({"game_analytics_daily"})
        assert not any(d["is_paused"] for d in dags.values())
        assert api.get("/api/v2/importErrors")["total_entries"] == 0
        started = [p for p in psutil.Process(make.pid).children(recursive=True)]
        assert len(started) >= 6, [p.name() for p in started]
        assert any(p.name() == "postgres" for p in started), [p.name() for p in started]
    finally:
        os.killpg(make.pid, signal.SIGINT)  # what a terminal's Ctrl-C does to the foreground group
        rest, _ = make.communicate(timeout=60)
    assert "stopped the local stack" in rest
    time.sleep(1)
    alive = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"left behind: {[(p.pid, p.cmdline()[:3]) for p in alive]}"
    state = StateDirs(state_root)
    assert state.logs.joinpath("airflow-scheduler.log").exists()
    assert "database system is shut down" in state.logs.joinpath("postgres.log").read_text()  # a clean shutdown
    assert not (state.postgres_data / "postmaster.pid").exists()


def assert_listening_on_loopback_only(stack: LocalStack, wanted: set[int]) -> None:
    """Every port a process of ``stack`` (or its child) listens on is on loopback, and ``wanted`` are among them."""
    pids = set()
    for server in stack.servers:
        process = psutil.Process(server.process.pid)
        pids |= {process.pid, *(child.pid for child in process.children(recursive=True))}
    listening = {
        (c.laddr.ip, c.laddr.port)
        for c in psutil.net_connections("inet")
        if c.status == psutil.CONN_LISTEN and c.pid in pids
    }
    assert wanted <= {port for _, port in listening}
    addresses = [ipaddress.ip_address(ip) for ip, _ in listening]
    assert all((getattr(a, "ipv4_mapped", None) or a).is_loopback for a in addresses), sorted(listening)


@pytest.mark.airflow_e2e
def test_every_local_server_listens_on_loopback_only(airflow_stack):
    """The local Airflow logs in admin / admin: nothing of the stack may be reachable from the network."""
    ports = airflow_stack.ports
    assert_listening_on_loopback_only(
        airflow_stack, {ports.bigquery, ports.bigquery_grpc, ports.kafka, ports.airflow, ports.postgres}
    )


def test_a_demo_error_is_reported_and_the_stack_stays_up(local_stack, monkeypatch):
    """`make run`: a failing demo (here a real refused connection to an Airflow API that is not there) is reported,
    not raised; the servers, and the UI one would use to look into it, keep running (the report's content:
    tests/test_demo_error_report.py)."""
    from game_analytics.localstack.demo_errors import demo_reporting_errors

    said: list[str] = []
    monkeypatch.setattr(local_stack, "say", said.append)
    result = demo_reporting_errors(local_stack, lambda: AirflowApi(free_port()).dags())
    assert result is None
    assert len(said) == 1 and said[0].startswith("demo failed: URLError: ") and "refused" in said[0], said
    assert "the stack is up" in said[0], said
    assert all(server.alive() for server in local_stack.servers)


def metadata_db(port: int):
    import psycopg2

    return psycopg2.connect(host="127.0.0.1", port=port, user=METADATA_DB_USER, dbname=METADATA_DB, connect_timeout=5)


@pytest.mark.airflow_e2e
def test_airflow_runs_on_the_stacks_postgresql_and_env_sh_reaches_it(airflow_stack):
    """The metadata DB is the stack's PostgreSQL (SQLite's write lock failed concurrent writers), and a shell that
    sources env.sh, with nothing else of this process's environment, reaches it with the `airflow` CLI."""
    ports, state = airflow_stack.ports, airflow_stack.state
    health = json.loads(urllib.request.urlopen(f"http://127.0.0.1:{ports.airflow}/api/v2/monitor/health").read())
    assert health["metadatabase"]["status"] == "healthy", health
    env_sh = shlex.quote(str(state.root / "env.sh"))
    shell = f". {env_sh} && {AIRFLOW} db check && {AIRFLOW} config get-value database sql_alchemy_conn"
    done = subprocess.run(
        ["bash", "-c", shell], env={"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/")},
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert done.stdout.strip().splitlines()[-1] == f"postgresql+psycopg2://airflow@127.0.0.1:{ports.postgres}/airflow"
    conn = metadata_db(ports.postgres)
    try:
        with conn.cursor() as cur:
            cur.execute("SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'")
            tables = {row[0] for row in cur.fetchall()}
            cur.execute("SELECT count(*) FROM dag_run")
            cur.fetchone()
    finally:
        conn.close()
    assert {"alembic_version", "dag", "dag_run", "task_instance", "backfill", "log"} <= tables, sorted(tables)
    assert not list(state.airflow_home.glob("*.db")), "an SQLite metadata DB was created"


def test_the_metadata_db_is_initialised_once_and_a_restart_reuses_it(state_root):
    """Two starts on one state folder: initdb runs on the first only, and what was written survives the stop."""
    ports, said = all_free_ports(), []
    state = StateDirs(state_root)

    def start() -> LocalStack:
        stack = LocalStack(state_root, ports, with_airflow=False, say=said.append)
        stack.start_metadata_db()
        return stack

    stack = start()
    try:
        assert "initdb on this first start" in said[-1], said
        cluster = (state.postgres_data / "PG_VERSION").stat()
        conn = metadata_db(ports.postgres)
        with conn, conn.cursor() as cur:
            cur.execute("CREATE TABLE kept (answer int)")
            cur.execute("INSERT INTO kept VALUES (42)")
        conn.close()
    finally:
        stack.stop()
    assert not (state.postgres_data / "postmaster.pid").exists(), "PostgreSQL did not shut down cleanly"
    stack = start()
    try:
        assert "initdb" not in said[-1], said
        assert (state.postgres_data / "PG_VERSION").stat().st_ino == cluster.st_ino
        conn = metadata_db(ports.postgres)
        with conn.cursor() as cur:
            cur.execute("SELECT answer FROM kept")
            assert cur.fetchall() == [(42,)]
        conn.close()
    finally:
        stack.stop()
    data = str(state.postgres_data)
    left = [p.pid for p in psutil.process_iter(["cmdline"]) if data in " ".join(p.info["cmdline"] or [])]
    assert not left, f"left behind: {left}"


@pytest.mark.skipif(os.geteuid() != 0, reason="only root runs PostgreSQL as another user")
def test_binaries_copied_for_the_server_user_find_their_bundled_libraries(tmp_path, monkeypatch):
    """A checkout under a folder closed to others (`mktemp -d` is 0700; CI's clone may be too): PostgreSQL runs as
    nobody and cannot reach the venv, so its binaries are copied to the temp folder. The copy must keep the wheel's
    layout: initdb finds its libpq through the RPATH $ORIGIN/../../../pgserver.libs (a flat copy failed to load)."""
    from game_analytics.localstack import postgres

    installed = postgres._pginstall()
    site = tmp_path / "closed" / "site-packages"  # under pytest's tmp folder, which is 0700
    shutil.copytree(installed, site / "pgserver" / "pginstall", symlinks=True, ignore=shutil.ignore_patterns("include"))
    shutil.copytree(installed.parent.parent / postgres.BUNDLED_LIBS, site / postgres.BUNDLED_LIBS, symlinks=True)
    monkeypatch.setattr(postgres, "_pginstall", lambda: site / "pgserver" / "pginstall")
    open_temp = Path(tempfile.mkdtemp())
    open_temp.chmod(0o755)
    monkeypatch.setattr(tempfile, "tempdir", str(open_temp))
    user = postgres.server_user()
    assert postgres.closed_folder(site / "pgserver" / "pginstall" / "bin", user) is not None
    try:
        binaries = postgres.bin_dir(user)
        assert binaries.is_relative_to(open_temp)
        ran = subprocess.run(
            [str(binaries / "initdb"), "--version"], capture_output=True, text=True, **postgres._as_user(user)
        )
        assert ran.returncode == 0 and "PostgreSQL" in ran.stdout, ran.stderr
    finally:
        shutil.rmtree(open_temp, ignore_errors=True)


def test_a_start_forgets_the_offsets_of_the_earlier_broker(local_stack, settings, tmp_path, monkeypatch):
    """The broker keeps topics in memory: after a restart the raw topic is new and starts at offset 0, so the
    warehouse's offsets of the earlier start must go (the launcher does it as it starts the broker), or the
    ingestion would skip the new topic's first messages as already taken. The launcher reaches the emulator through
    the stack's settings: its own environment does not have them yet (here it points nowhere)."""
    from game_analytics.warehouse.client import bigquery_client, query_rows
    from game_analytics.warehouse.schema import create_dataset_and_tables

    stack = LocalStack(tmp_path, local_stack.ports, with_airflow=False, say=lambda _m: None)  # the session's servers
    stack.env["GA_BQ_DATASET"] = settings.bq_dataset
    client = bigquery_client(settings)
    create_dataset_and_tables(client, settings)
    offsets = settings.table("ingestion_offsets")
    row = f"'{settings.raw_topic}', 0, 'earlier-start', 99, CURRENT_TIMESTAMP()"
    client.query(f"INSERT INTO {offsets} VALUES ({row}), ('another-topic', 0, 'g', 7, CURRENT_TIMESTAMP())").result()
    monkeypatch.setenv("BIGQUERY_EMULATOR_HOST", "http://127.0.0.1:9")
    stack.forget_offsets_of_an_earlier_broker()
    assert query_rows(client, f"SELECT topic, next_offset FROM {offsets}") == [
        {"topic": "another-topic", "next_offset": 7}
    ]
