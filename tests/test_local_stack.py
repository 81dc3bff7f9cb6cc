"""The launcher behind `make run`: servers come up healthy, clashes are explained, Ctrl-C leaves nothing behind."""

from __future__ import annotations

import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time

import psutil
import pytest

from game_analytics.localstack import bq_emulator
from game_analytics.localstack.airflow_api import AirflowApi
from game_analytics.localstack.environment import REPO_ROOT, StackPorts, StateDirs
from game_analytics.localstack.launcher import LocalStack
from game_analytics.localstack.servers import StackError, free_port


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
def test_make_run_serves_dags_and_ctrl_c_stops_everything(tmp_path):
    """`make run` as a user runs it: UI and REST API on the port, DAGs listed unpaused, then Ctrl-C."""
    ports = StackPorts(bigquery=free_port(), bigquery_grpc=free_port(), kafka=free_port(), airflow=free_port())
    env = {**os.environ, "GA_STATE_DIR": str(tmp_path / "state")}
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
    finally:
        os.killpg(make.pid, signal.SIGINT)  # what a terminal's Ctrl-C does to the foreground group
        rest, _ = make.communicate(timeout=60)
    assert "stopped the local stack" in rest
    time.sleep(1)
    alive = [p for p in started if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
    assert not alive, f"left behind: {[(p.pid, p.cmdline()[:3]) for p in alive]}"
    assert StateDirs(tmp_path / "state").logs.joinpath("airflow-scheduler.log").exists()


@pytest.mark.airflow_e2e
def test_every_local_server_listens_on_loopback_only(airflow_stack):
    """The local Airflow logs in admin / admin: nothing of the stack may be reachable from the network."""
    pids = set()
    for server in airflow_stack.servers:
        process = psutil.Process(server.process.pid)
        pids |= {process.pid, *(child.pid for child in process.children(recursive=True))}
    listening = {
        (c.laddr.ip, c.laddr.port)
        for c in psutil.net_connections("inet")
        if c.status == psutil.CONN_LISTEN and c.pid in pids
    }
    ports = airflow_stack.ports
    assert {ports.bigquery, ports.bigquery_grpc, ports.kafka, ports.airflow} <= {port for _, port in listening}
    addresses = [ipaddress.ip_address(ip) for ip, _ in listening]
    assert all((getattr(a, "ipv4_mapped", None) or a).is_loopback for a in addresses), sorted(listening)


def test_a_demo_error_is_reported_and_the_stack_stays_up(local_stack, monkeypatch):
    """`make run`: a failing demo (here a real refused connection to an Airflow API that is not there) is reported,
    not raised; the servers, and the UI one would use to look into it, keep running (the report's content:
    tests/test_demo_error_report.py)."""
    from game_analytics.localstack.launcher import demo_reporting_errors

    said: list[str] = []
    monkeypatch.setattr(local_stack, "say", said.append)
    result = demo_reporting_errors(local_stack, lambda: AirflowApi(free_port()).dags())
    assert result is None
    assert len(said) == 1 and said[0].startswith("demo failed: URLError: ") and "refused" in said[0], said
    assert "the stack is up" in said[0], said
    assert all(server.alive() for server in local_stack.servers)
