"""The local stack's CeleryExecutor mode (``GA_EXECUTOR=celery``): Redis as the broker and two Celery workers.

Why: production scales out by adding workers (docker-compose.yaml's ``airflow-worker --scale``, the Helm chart).
With the LocalExecutor every task runs under the local scheduler, so nothing here showed that tasks, e.g. the
ingestion's shards, really run apart. In this mode the scheduler sends each task through Redis to one of two
``airflow celery worker`` processes, with a concurrency of 1 each: two tasks that run at the same time run on
different workers. Each worker records its own hostname in its task instances (:func:`worker_hostname`, set as
Airflow's ``[core] hostname_callable`` in that worker's environment), so the task instances show where each ran.

Redis is Debian's ``redis-server`` package (``.ci/run`` installs it), run in the foreground as one ``Server`` of
the stack, in memory only (no RDB or AOF files): like the Kafka broker, each start is a new, empty broker. The
workers run without their log servers (``--skip-serve-logs``, which would bind every interface and clash on one
port): their task logs are files under the stack's log folder, which the api-server reads directly.
"""

from __future__ import annotations

import os
import shutil
import socket
import sys
from pathlib import Path

from game_analytics.localstack.environment import StateDirs, bind_host
from game_analytics.localstack.servers import Server, StackError

REDIS_PACKAGE = "redis-server"  # Debian's package and its binary
WORKERS = ("worker-1", "worker-2")
WORKER_NAME_VAR = "GA_CELERY_WORKER"  # set in each worker's environment; read by worker_hostname
_AIRFLOW = str(Path(sys.executable).parent / "airflow")


def redis_binary() -> str:
    """The ``redis-server`` on PATH; a clear error naming the package when there is none."""
    found = shutil.which(REDIS_PACKAGE)
    if not found:
        raise StackError(
            f"GA_EXECUTOR=celery needs Redis (the Celery broker), and `{REDIS_PACKAGE}` is not on PATH: install "
            f"Debian's {REDIS_PACKAGE} package (apt-get install {REDIS_PACKAGE}), or leave GA_EXECUTOR unset for "
            "the LocalExecutor"
        )
    return found


def redis_server(state: StateDirs, port: int, env: dict[str, str]) -> Server:
    """Redis on ``bind_host()``:``port``, in memory, logging to the stack's log folder (not started)."""
    argv = [
        redis_binary(), "--port", str(port), "--bind", bind_host(),
        "--save", "", "--appendonly", "no",  # in memory: the broker holds only the tasks in flight
        "--dir", str(state.logs), "--logfile", "",  # its log on stdout, i.e. in logs/redis.log
        "--daemonize", "no",
    ]  # fmt: skip
    return Server("redis", argv, state.logs / "redis.log", env=env)


def redis_ping(port: int) -> bool:
    import redis

    client = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=1, socket_timeout=1)
    try:
        return bool(client.ping())
    finally:
        client.close()


def worker_hostname() -> str:
    """Airflow's ``[core] hostname_callable`` in a worker: the machine's name and the worker's, e.g. ``box-worker-1``.

    Airflow's default (the FQDN) is the same for both workers of one machine; this tells their task instances apart.
    """
    return f"{socket.gethostname()}-{os.environ[WORKER_NAME_VAR]}"


def worker_servers(state: StateDirs, env: dict[str, str]) -> list[Server]:
    """The two ``airflow celery worker`` processes (not started), each with its own Celery node name and hostname."""
    servers = []
    for name in WORKERS:
        # --concurrency 1 comes from AIRFLOW__CELERY__WORKER_CONCURRENCY (environment.executor_env)
        argv = [_AIRFLOW, "celery", "worker", "--celery-hostname", f"{name}@%h", "--skip-serve-logs"]
        worker_env = {
            **env,
            WORKER_NAME_VAR: name,
            "AIRFLOW__CORE__HOSTNAME_CALLABLE": f"{__name__}.{worker_hostname.__name__}",
        }
        servers.append(Server(f"airflow-{name}", argv, state.logs / f"airflow-{name}.log", env=worker_env))
    return servers


def workers_ready(broker_url: str) -> bool:
    """Every worker answers a Celery ping through the broker (it consumes tasks from then on)."""
    from celery import Celery

    with Celery(broker=broker_url) as app:
        replies = app.control.ping(timeout=1.0)
    answered = {node.split("@", 1)[0] for reply in replies for node in reply}
    return set(WORKERS) <= answered
