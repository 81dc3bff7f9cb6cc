"""Ports, folders and environment variables of the local stack.

One function, :func:`stack_environment`, builds the environment every local process gets (Airflow components,
tests, the benchmark): connections as ``AIRFLOW_CONN_*`` pointing at the emulator and the broker, Airflow's
home inside the state folder, and the emulator host for the BigQuery client. Production sets the same variables
to real endpoints instead (see README, "From laptop to GCP"). ``GA_EXECUTOR`` picks Airflow's executor: the
LocalExecutor (default), or ``celery``, the CeleryExecutor with a Redis broker and two local workers, as production
scales out (celery_mode.py).
"""

from __future__ import annotations

import ipaddress
import json
import os
import secrets
import shlex
import socket
from dataclasses import dataclass, field
from pathlib import Path

from game_analytics.localstack.servers import StackError, free_port

REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_STATE_DIR = Path(os.environ.get("GA_STATE_DIR") or REPO_ROOT / ".state")

METADATA_DB = "airflow"  # the database and role of Airflow's metadata on the local PostgreSQL (postgres.py)
METADATA_DB_USER = "airflow"

RAW_TOPIC_PARTITIONS = 8
DLQ_TOPIC_PARTITIONS = 2
DEFAULT_ALERT_RECEIVER_PORT = 9097
# GA_EXECUTOR -> Airflow's [core] executor
EXECUTORS = {"local": "LocalExecutor", "celery": "CeleryExecutor"}


@dataclass(frozen=True)
class StackPorts:
    """TCP ports of the local servers; each is overridable by the variable named in ``SETTINGS``."""

    bigquery: int = 9050
    bigquery_grpc: int = 9060
    kafka: int = 9092
    airflow: int = 8080
    postgres: int = 5433  # Airflow's metadata DB; not 5432, which a system PostgreSQL may hold
    redis: int = 6380  # the Celery broker (GA_EXECUTOR=celery only); not 6379, which a system Redis may hold
    # The webhook receiver (the local inbox of alert notifications). Built without it (tests, benchmarks, which
    # give every other port), it takes a free port; from_env gives it GA_ALERT_RECEIVER_PORT or 9097.
    alert_receiver: int = field(default_factory=free_port)

    SETTINGS = {
        "bigquery": "GA_BQ_PORT",
        "bigquery_grpc": "GA_BQ_GRPC_PORT",
        "kafka": "GA_KAFKA_PORT",
        "airflow": "GA_AIRFLOW_PORT",
        "postgres": "GA_POSTGRES_PORT",
        "redis": "GA_REDIS_PORT",
        "alert_receiver": "GA_ALERT_RECEIVER_PORT",
    }

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> StackPorts:
        env = os.environ if environ is None else environ
        ports = {name: int(env[var]) for name, var in cls.SETTINGS.items() if env.get(var)}
        return cls(**{"alert_receiver": DEFAULT_ALERT_RECEIVER_PORT, **ports})


@dataclass(frozen=True)
class StateDirs:
    """Everything the local stack writes lives under one git-ignored folder."""

    root: Path

    @property
    def airflow_home(self) -> Path:
        return self.root / "airflow"

    @property
    def postgres_data(self) -> Path:
        """The PostgreSQL cluster of Airflow's metadata DB (initdb'd on first start, see postgres.py)."""
        return self.root / "postgres"

    @property
    def bigquery_data(self) -> Path:
        return self.root / "bigquery"

    @property
    def gcs_root(self) -> Path:
        """`gs://bucket/path` is `gcs/bucket/path` on the local stack."""
        return self.root / "gcs"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def alert_inbox(self) -> Path:
        """The local webhook receiver's inbox: one JSON line per notification received."""
        return self.logs / "alert-inbox.jsonl"

    def create(self) -> None:
        for path in (self.airflow_home, self.bigquery_data, self.gcs_root, self.logs):
            path.mkdir(parents=True, exist_ok=True)


def bind_host() -> str:
    """The address every local server listens on: loopback, so nobody on the network reaches the local Airflow
    (admin / admin) or the warehouse. ``GA_BIND_HOST=0.0.0.0`` opens them up on purpose."""
    return os.environ.get("GA_BIND_HOST") or "127.0.0.1"


EVERY_INTERFACE = ("0.0.0.0", "::")
# Where a UDP socket is "connected" to learn which address this machine's default route leaves from (TEST-NET-2: a
# connected UDP socket sends nothing, it only picks the route).
_ROUTE_PROBE = ("198.51.100.1", 9)


def advertised_host() -> str:
    """The address the Kafka broker tells its clients to connect to (after the bootstrap, every client connects to
    the advertised listener): ``GA_ADVERTISED_HOST`` when set; else, when the servers listen on every interface
    (``GA_BIND_HOST=0.0.0.0``), this machine's primary address, so that a client on another machine is not told to
    connect to itself; else the bind host (loopback by default)."""
    explicit = os.environ.get("GA_ADVERTISED_HOST")
    if explicit:
        return explicit
    host = bind_host()
    return primary_address() if host in EVERY_INTERFACE else host


def primary_address() -> str:
    """This machine's address on its default route, else its hostname's address if that is not loopback."""
    candidates = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as probe:
            probe.connect(_ROUTE_PROBE)
            candidates.append(probe.getsockname()[0])
    except OSError:
        pass  # no default route: try the hostname
    try:
        candidates.append(socket.gethostbyname(socket.gethostname()))
    except OSError:
        pass
    for address in candidates:
        if not ipaddress.ip_address(address).is_loopback and not ipaddress.ip_address(address).is_unspecified:
            return address
    raise StackError(
        f"GA_BIND_HOST={bind_host()} opens the broker to the network, but this machine has no address other "
        "machines could connect to (no default route, its hostname is loopback): set GA_ADVERTISED_HOST=<address>"
    )


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host  # an IPv6 literal in a URL


def broker_listener_args(port: int) -> list[str]:
    """The broker's listener (``bind_host()``) and the address it advertises to clients (``advertised_host()``:
    reachable from other machines when it listens on every interface)."""
    return [
        "--listener-url", f"tcp://{_url_host(bind_host())}:{port}",
        "--advertised-listener-url", f"tcp://{_url_host(advertised_host())}:{port}",
    ]  # fmt: skip


def admin_password() -> str:
    """The local UI login (admin / this). Local only: production uses its own auth manager."""
    return os.environ.get("GA_AIRFLOW_ADMIN_PASSWORD", "admin")


def _local_jwt_secret(state: StateDirs) -> str:
    """A per-checkout random secret shared by all local Airflow processes (never committed)."""
    path = state.airflow_home / "jwt_secret"
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


def metadata_db_url(ports: StackPorts) -> str:
    """Airflow's metadata DB on the local PostgreSQL: no password, its loopback connections are trusted (local dev
    stack only, see postgres.py)."""
    return f"postgresql+psycopg2://{METADATA_DB_USER}@127.0.0.1:{ports.postgres}/{METADATA_DB}"


def executor_mode(environ: dict[str, str] | None = None) -> str:
    """``GA_EXECUTOR``: ``local`` (the default) or ``celery``."""
    mode = ((os.environ if environ is None else environ).get("GA_EXECUTOR") or "local").strip().lower()
    if mode not in EXECUTORS:
        raise StackError(f"GA_EXECUTOR={mode!r} is not one of {', '.join(EXECUTORS)}")
    return mode


def executor_env(executor: str, ports: StackPorts) -> dict[str, str]:
    """Airflow's executor settings: in celery mode the broker (the stack's Redis) and the result backend (the
    metadata DB's PostgreSQL, where the CeleryExecutor reads task states), one task at a time per worker."""
    env = {"GA_EXECUTOR": executor, "AIRFLOW__CORE__EXECUTOR": EXECUTORS[executor]}
    if executor == "celery":
        env["AIRFLOW__CELERY__BROKER_URL"] = f"redis://127.0.0.1:{ports.redis}/0"
        # The driver named (+psycopg2): SQLAlchemy 2.1's default for postgresql:// is psycopg 3, not installed
        env["AIRFLOW__CELERY__RESULT_BACKEND"] = "db+" + metadata_db_url(ports)
        env["AIRFLOW__CELERY__WORKER_CONCURRENCY"] = "1"
    return env


def connection_env(
    ports: StackPorts, project: str = "game-analytics", kafka_group: str = "game-events-ingest"
) -> dict[str, str]:
    """`AIRFLOW_CONN_*` for the emulator and the broker, plus the emulator host for the BigQuery client."""
    google = {"conn_type": "google_cloud_platform", "extra": {"project": project, "is_anonymous": True}}
    kafka = {
        "conn_type": "kafka",
        "extra": {
            "bootstrap.servers": f"127.0.0.1:{ports.kafka}",
            "group.id": kafka_group,
            "enable.auto.commit": "false",
            "auto.offset.reset": "earliest",
            # Tansu's group join takes ~23 s with the defaults, ~3 s with these.
            "session.timeout.ms": "6000",
            "heartbeat.interval.ms": "500",
        },
    }
    return {
        "AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT": json.dumps(google),
        "AIRFLOW_CONN_KAFKA_DEFAULT": json.dumps(kafka),
        "BIGQUERY_EMULATOR_HOST": f"http://127.0.0.1:{ports.bigquery}",
        "GA_BQ_PROJECT": project,
    }


def stack_environment(
    state: StateDirs, ports: StackPorts, kafka_group: str = "game-events-ingest", executor: str = "local"
) -> dict[str, str]:
    """The environment of every process the launcher starts (on top of ``os.environ``)."""
    state.create()
    home = state.airflow_home
    env = connection_env(ports, kafka_group=kafka_group)
    env.update(executor_env(executor, ports))
    env.update(
        {
            "AIRFLOW_HOME": str(home),
            "AIRFLOW__CORE__DAGS_FOLDER": str(REPO_ROOT / "dags"),
            "AIRFLOW__CORE__PLUGINS_FOLDER": str(REPO_ROOT / "plugins"),
            "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
            "AIRFLOW__CORE__PARALLELISM": "4",
            "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"http://127.0.0.1:{ports.airflow}/execution/",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": "admin:admin",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "passwords.json"),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": metadata_db_url(ports),
            "AIRFLOW__API__HOST": bind_host(),
            "AIRFLOW__API__PORT": str(ports.airflow),
            "AIRFLOW__SCHEDULER__SCHEDULER_HEALTH_CHECK_SERVER_HOST": bind_host(),
            "AIRFLOW__API__BASE_URL": f"http://localhost:{ports.airflow}",
            "AIRFLOW__API_AUTH__JWT_SECRET": _local_jwt_secret(state),
            "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "20",
            # Parsing the daily DAG imports the BigQuery operator (~7 s idle); on 2 busy cores the 30 s default
            # import timeout was hit and tasks were rescheduled.
            "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "120",
            "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "180",
            "AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK": "True",
            "AIRFLOW__LOGGING__BASE_LOG_FOLDER": str(state.logs / "tasks"),
            "BQEMU_GCS_LOCAL_ROOT": str(state.gcs_root),
            # Alerts go to the local receiver (launcher.py starts it; its inbox is StateDirs.alert_inbox)
            "GA_ALERT_CHANNELS": "webhook",
            "GA_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{ports.alert_receiver}/alerts",
            "GA_AIRFLOW_BASE_URL": f"http://localhost:{ports.airflow}",
            "GA_STATE_DIR": str(state.root),
            # The DLQ rate over the last ingestion run only: the demo's burst alert resolves after one clean run
            "GA_HEALTH_DLQ_RATE_RUNS": "1",
            "GA_SENSOR_POKE_SECONDS": "10",  # locally the data is there in seconds, not hours
            # The emulator runs BEGIN TRANSACTION by copying each table the script touches: per batch, all of
            # `events`. The ingestion stays exactly-once without it (see ingest/loader.py).
            "GA_INGEST_USE_TRANSACTION": "false",
            # Nothing here uses time travel; without this every load job keeps a full copy of its table for 7 days.
            "BQEMU_TIME_TRAVEL_RETENTION_DAYS": "0",
        }
    )
    (home / "passwords.json").write_text(json.dumps({"admin": admin_password()}))
    # `source .state/env.sh` gives a shell the same settings, e.g. for `airflow backfill create`.
    (state.root / "env.sh").write_text("".join(f"export {k}={shlex.quote(v)}\n" for k, v in sorted(env.items())))
    return env
