"""The one place where the pipeline's settings live.

Every value comes from an environment variable with a default that suits the local stack, so the same DAG code
runs on a laptop and on GCP by configuration alone. Nothing here does I/O: it is safe to call at DAG-parse time.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from datetime import timedelta

from game_analytics.events.contract import RAW_TOPIC_RETENTION

_PREFIX = "GA_"


@dataclass(frozen=True)
class Settings:
    """Pipeline settings. The field name upper-cased with a ``GA_`` prefix is its environment variable."""

    # BigQuery
    bq_project: str = "game-analytics"
    bq_dataset: str = "analytics"
    bq_location: str = "US"
    gcp_conn_id: str = "google_cloud_default"
    # Features for ML (gs:// bucket; the local stack maps it to a folder)
    features_bucket: str = "game-analytics-features"
    # Kafka
    kafka_conn_id: str = "kafka_default"
    # The Kafka cluster's name in lineage (the host of the raw topic's Asset URI, kafka://<cluster>/<topic>); read
    # from here, not from the connection, because DAG files must not look up connections at parse time
    kafka_cluster: str = "kafka"
    raw_topic: str = "game-events-raw"
    dlq_topic: str = "game-events-dlq"
    # How long game-events-raw keeps a message (the spec's 7 days): the oldest a message's Kafka timestamp can be, so
    # the validator's time window is never measured from a producer's older CreateTime (ingest/validate.py)
    raw_topic_retention_days: int = RAW_TOPIC_RETENTION.days
    # Confluent Schema Registry for Avro ids (empty: the schemas shipped in the package). Credentials, if any, come
    # from GA_SCHEMA_REGISTRY_BASIC_AUTH ("key:secret"), read where used, never stored here.
    schema_registry_url: str = ""
    # Completeness: a day is complete when every partition caught up past its end plus this grace
    completeness_grace_minutes: int = 30
    sensor_timeout_hours: int = 12
    sensor_poke_seconds: int = 300
    # Under `airflow dags test` / `tasks test` the sensor waits in the CLI process: it gives up after this long
    sensor_cli_timeout_seconds: int = 60
    # Volume anomaly check: warn when level_complete events drop more than this share vs. the 7-day average
    volume_drop_warn_ratio: float = 0.5
    # Dead-letter share of a day's messages: warn above / fail above
    dlq_share_warn: float = 0.01
    dlq_share_fail: float = 0.05
    # Vertex AI: empty project means "train locally instead" (the local stack)
    vertex_project: str = ""
    vertex_region: str = "europe-west1"
    vertex_pipeline_template: str = ""
    training_lookback_days: int = 30
    # Every task's first retry waits this long, then twice as long each time (the suite sets a few seconds to watch
    # retries through a real scheduler)
    retry_delay_seconds: int = 300
    # Kafka ingestion (game_events_ingest): micro-batch bounds and the longest a run may keep consuming
    ingest_max_batch_messages: int = 200_000
    ingest_max_batch_seconds: float = 30.0
    ingest_max_run_seconds: float = 480.0
    # Ingestion tasks per run (dynamic task mapping): shard i of n owns the raw topic's partitions p with
    # p % n == i, assigned (never rebalanced), each with its own offsets; any n gives the same rows (ingest/run.py).
    ingest_shards: int = 1
    # Wrap each batch's warehouse statements in BEGIN/COMMIT TRANSACTION. Off on the local stack only: the emulator
    # implements a transaction by copying every table it touches (all of `events`, per batch). Without it the script
    # still runs whole once sent (a crash of the ingesting process changes nothing), but a statement failing after
    # an earlier one succeeded leaves appended rows whose offsets are not recorded (ingest/loader.py).
    ingest_use_transaction: bool = True
    # Operations: the pipeline_health DAG, alerts, the "Pipeline health" page and /metrics (game_analytics.health).
    # Alert thresholds live in alerts.yaml, each overridable by GA_ALERT_<RULE>_THRESHOLD (health/rules.py).
    # Where notifications go: a comma list of webhook, slack, email (empty, the default: logged only; the local
    # stack sets webhook)
    alert_channels: str = ""
    # webhook: POST JSON here (the local stack runs a receiver whose log is the inbox)
    alert_webhook_url: str = ""
    # slack: an Airflow connection of type slackwebhook (AIRFLOW_CONN_SLACK_ALERTS), never a URL in the repo
    slack_webhook_conn_id: str = "slack_alerts"
    # email: recipients (comma list) through the smtp provider's connection
    alert_email_to: str = ""
    smtp_conn_id: str = "smtp_default"
    # While a rule keeps firing, remind at most every this many hours (0: never)
    alert_reminder_hours: float = 4.0
    # A day's failure (failed check, late metrics, failed daily run) fires until it is fixed, for days up to this
    # many days back; an older one still unfixed stops notifying ("expired") and is listed on the health page
    alert_horizon_days: int = 30
    # The daily DAG's Airflow Deadline Alert (daily_metrics_late at D+1 06:00 UTC, health/deadline.py). Off: on
    # Airflow 3.3.2 `airflow dags test` of a DAG with a deadline crashes when the run succeeds (a deadline id is
    # looked up as a dict); the health DAG's measurement fires the same rule every 5 minutes either way.
    daily_deadline_alert: bool = False
    # The DLQ rate is dead-lettered / consumed over the last this many ingestion runs
    health_dlq_rate_runs: int = 3
    # Where people open Airflow (links in notifications to the health page and its runbooks)
    airflow_base_url: str = "http://localhost:8080"
    # /metrics without a user login or token (GA_METRICS_TOKEN, read where used): only when this says so
    metrics_allow_anonymous: bool = False
    # The folder of the SQL templates (the repository's sql/). Empty: the sql/ of the checkout the package runs from
    # (warehouse/sql_templates.py); an image that installs the package sets it to where it puts the folder.
    sql_dir: str = ""

    @property
    def dataset_ref(self) -> str:
        """`project.dataset`, quoted for BigQuery SQL."""
        return f"`{self.bq_project}.{self.bq_dataset}`"

    def table(self, name: str) -> str:
        """Fully qualified, quoted table name for SQL."""
        return f"`{self.bq_project}.{self.bq_dataset}.{name}`"

    @property
    def completeness_grace(self) -> timedelta:
        return timedelta(minutes=self.completeness_grace_minutes)

    @property
    def raw_topic_retention(self) -> timedelta:
        return timedelta(days=self.raw_topic_retention_days)

    @property
    def train_on_vertex(self) -> bool:
        return bool(self.vertex_project)

    @property
    def features_root(self) -> str:
        return f"gs://{self.features_bucket}/level_features"

    def features_uri(self, day: str) -> str:
        """The folder of one day's `level_features` export (replaced by each run of that day)."""
        return f"{self.features_root}/dt={day}"

    @property
    def model_root(self) -> str:
        return f"gs://{self.features_bucket}/level_difficulty_model"

    def model_uri(self, day: str) -> str:
        """Where the local training writes the model and metrics trained on `day`."""
        return f"{self.model_root}/dt={day}"


def _parse_bool(raw: str) -> bool:
    word = raw.strip().lower()
    if word in ("1", "true", "yes", "on"):
        return True
    if word in ("0", "false", "no", "off"):
        return False
    raise ValueError(raw)


def load_settings(environ: dict[str, str] | None = None) -> Settings:
    """Build settings from the environment; a badly typed value names its variable."""
    env = os.environ if environ is None else environ
    values: dict[str, object] = {}
    for f in fields(Settings):
        raw = env.get(_PREFIX + f.name.upper())
        if raw is None:
            continue
        kind = type(f.default)
        try:
            values[f.name] = _parse_bool(raw) if kind is bool else kind(raw)
        except ValueError as exc:
            raise ValueError(f"{_PREFIX}{f.name.upper()}={raw!r} is not a valid {kind.__name__}") from exc
    settings = Settings(**values)
    if settings.ingest_shards < 1:
        raise ValueError(f"{_PREFIX}INGEST_SHARDS={settings.ingest_shards} must be at least 1")
    if settings.alert_horizon_days < 1:
        raise ValueError(f"{_PREFIX}ALERT_HORIZON_DAYS={settings.alert_horizon_days} must be at least 1")
    return settings
