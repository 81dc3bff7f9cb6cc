"""The local stack's executor switch, without starting servers: LocalExecutor unless GA_EXECUTOR=celery, the Celery
settings that mode sets, a clear error without Redis, and a hostname per worker.

Why: `make run` must stay on the LocalExecutor by default, and a machine without Debian's redis-server must say what
to install instead of failing somewhere in a worker's log. The end-to-end run of celery mode, with real workers, is
tests/e2e/test_celery_shards.py.
"""

from __future__ import annotations

import importlib
import socket
from urllib.parse import urlsplit

import pytest

from game_analytics.localstack import celery_mode
from game_analytics.localstack.environment import StackPorts, StateDirs, executor_mode, stack_environment
from game_analytics.localstack.launcher import LocalStack
from game_analytics.localstack.servers import StackError, free_port

PORTS = StackPorts(airflow=free_port(), postgres=free_port(), redis=free_port())


def test_local_executor_unless_ga_executor_says_celery(tmp_path):
    assert executor_mode({}) == "local" and executor_mode({"GA_EXECUTOR": "Celery "}) == "celery"
    with pytest.raises(StackError, match="GA_EXECUTOR='kubernetes' is not one of local, celery"):
        executor_mode({"GA_EXECUTOR": "kubernetes"})
    local = stack_environment(StateDirs(tmp_path / "local"), PORTS)
    assert local["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
    assert not [key for key in local if key.startswith("AIRFLOW__CELERY__")]
    celery = stack_environment(StateDirs(tmp_path / "celery"), PORTS, executor="celery")
    assert celery["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor" and celery["GA_EXECUTOR"] == "celery"
    assert celery["AIRFLOW__CELERY__BROKER_URL"] == f"redis://127.0.0.1:{PORTS.redis}/0"
    backend = urlsplit(celery["AIRFLOW__CELERY__RESULT_BACKEND"])  # the metadata DB, its driver named
    database = urlsplit(celery["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"])
    assert (
        backend.scheme == "db+postgresql+psycopg2"
        and backend.netloc == database.netloc == f"airflow@127.0.0.1:{PORTS.postgres}"
    )
    assert celery["AIRFLOW__CELERY__WORKER_CONCURRENCY"] == "1"  # two tasks at a time go to two workers


def test_celery_mode_without_redis_names_the_package_before_starting_anything(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "no-binaries-here"))
    stack = LocalStack(tmp_path / "state", PORTS, executor="celery", say=lambda _msg: None)
    with pytest.raises(StackError) as err:
        stack.start()
    assert "`redis-server` is not on PATH" in str(err.value) and "apt-get install redis-server" in str(err.value)
    assert not stack.servers


def test_each_worker_records_a_hostname_of_its_own(tmp_path, monkeypatch):
    """TaskInstance.hostname is what the task's supervisor sends when the task starts: Airflow's [core]
    hostname_callable (airflow.sdk.api.client.get_hostname), set per worker."""
    env = stack_environment(StateDirs(tmp_path), PORTS, executor="celery")
    workers = celery_mode.worker_servers(StateDirs(tmp_path), env)
    assert [w.name for w in workers] == ["airflow-worker-1", "airflow-worker-2"]
    hostnames = set()
    for worker in workers:
        assert "--skip-serve-logs" in worker.argv  # no log server on every interface, nor two on one port
        module, _, name = worker.env["AIRFLOW__CORE__HOSTNAME_CALLABLE"].rpartition(".")
        monkeypatch.setenv(celery_mode.WORKER_NAME_VAR, worker.env[celery_mode.WORKER_NAME_VAR])
        hostnames.add(getattr(importlib.import_module(module), name)())
    assert hostnames == {f"{socket.gethostname()}-worker-1", f"{socket.gethostname()}-worker-2"}
