"""The production-like stack (docker-compose.yaml), checked by reading it: no Docker engine runs here.

Nothing else exercises this file (`make run` uses the Python servers), so a broken service name, a missing
mount or a secret pasted into it would only show on the first `docker compose up`. PyYAML's safe_load resolves
the `<<: *airflow-common` merge keys; `${VAR:-default}` is resolved by a small helper where a value matters.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from dataclasses import fields
from urllib.parse import urlsplit

import pytest
import yaml

from game_analytics.config import Settings
from game_analytics.localstack.environment import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yaml"
AIRFLOW = ["airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"]
LONG_RUNNING = AIRFLOW[1:]
_VAR = re.compile(r"(?<!\$)\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def resolve(value: str, env: dict[str, str] | None = None) -> str:
    """Compose-style interpolation: `${V}`, `${V:-default}`, `${V-default}`, `${V:?error}`."""
    env = env or {}

    def sub(m: re.Match) -> str:
        name, op, arg = m.groups()
        if op in (":?", "?"):
            assert env.get(name), f"{name} is required: {arg}"
            return env[name]
        if op == ":-":
            return env.get(name) or arg
        return env.get(name, arg or "")

    return _VAR.sub(sub, str(value))


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def test_required_services_and_no_zookeeper(services):
    assert set(AIRFLOW + ["postgres", "kafka", "kafka-init"]) <= set(services)
    assert not [name for name, svc in services.items() if "zookeeper" in f"{name} {svc.get('image', '')}"]


def test_airflow_services_share_image_build_and_mounts(services):
    images = {services[s]["image"] for s in AIRFLOW}
    builds = {json.dumps(services[s]["build"], sort_keys=True) for s in AIRFLOW}
    assert len(images) == 1 and len(builds) == 1
    assert services["airflow-init"]["build"] == {"context": ".", "dockerfile": "docker/Dockerfile"}
    dockerfile = (REPO_ROOT / "docker" / "Dockerfile").read_text()
    assert "FROM apache/airflow:3.3.2-python3.11" in dockerfile and "--no-deps" in dockerfile
    for name in AIRFLOW:
        mounts = {resolve(v).split(":")[1]: resolve(v).split(":")[0] for v in services[name]["volumes"]}
        for folder in ("dags", "plugins", "sql", "include"):
            assert mounts.get(f"/opt/airflow/{folder}") == f"./{folder}", (name, folder)
        assert services[name]["environment"]["PYTHONPATH"] == "/opt/airflow/include"


def test_airflow_environment(services):
    api_port = services["airflow-apiserver"]["ports"][0].rsplit(":", 1)[1]
    for name in AIRFLOW:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "LocalExecutor"
        assert env["AIRFLOW__CORE__LOAD_EXAMPLES"].lower() == "false"
        assert "${POSTGRES_PASSWORD" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
        db = urlsplit(resolve(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]))
        assert db.scheme.startswith("postgresql") and db.hostname == "postgres", name
        assert db.password == resolve(services["postgres"]["environment"]["POSTGRES_PASSWORD"])
        api = urlsplit(env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"])
        assert (api.hostname, str(api.port), api.path) == ("airflow-apiserver", api_port, "/execution/")
        kafka = json.loads(env["AIRFLOW_CONN_KAFKA_DEFAULT"])
        assert kafka["conn_type"] == "kafka" and kafka["extra"]["enable.auto.commit"] == "false"
        assert kafka["extra"]["bootstrap.servers"].split(":")[0] == "kafka"
        google = json.loads(resolve(env["AIRFLOW_CONN_GOOGLE_CLOUD_DEFAULT"], {"GA_BQ_PROJECT": "p1"}))
        assert google["conn_type"] == "google_cloud_platform" and google["extra"]["project"] == "p1"
        assert any(resolve(v).split(":")[1] == google["extra"]["key_path"] for v in services[name]["volumes"])
    secrets = {services[name]["environment"]["AIRFLOW__API_AUTH__JWT_SECRET"] for name in AIRFLOW}
    assert len(secrets) == 1 and re.fullmatch(r"\$\{\w+:\?[^}]*\}", secrets.pop())


def test_pipeline_settings_defaults_match_config(services):
    env = services["airflow-scheduler"]["environment"]
    for f in fields(Settings):
        var = "GA_" + f.name.upper()
        if var in env:
            assert resolve(env[var]) == str(f.default), var
    assert {"GA_BQ_PROJECT", "GA_BQ_DATASET", "GA_FEATURES_BUCKET", "GA_VERTEX_PROJECT"} <= set(env)


def test_startup_order_and_healthchecks(services):
    assert "healthcheck" in services["postgres"] and "healthcheck" in services["kafka"]
    for name in LONG_RUNNING:
        deps = services[name]["depends_on"]
        assert deps["airflow-init"]["condition"] == "service_completed_successfully", name
        assert deps["postgres"]["condition"] == "service_healthy", name
        assert services[name]["healthcheck"]["test"], name
    assert "/api/v2/monitor/health" in " ".join(services["airflow-apiserver"]["healthcheck"]["test"])


def test_kafka_is_kraft_and_topics_are_created(services):
    env = services["kafka"]["environment"]
    assert "controller" in env["KAFKA_PROCESS_ROLES"].split(",")
    assert not any("ZOOKEEPER" in key for key in env)
    command = "\n".join(services["kafka-init"]["command"])
    script = resolve(command)
    for topic, partitions, days in (("game-events-raw", 64, 7), ("game-events-dlq", 8, 30)):
        line = next((ln for ln in script.splitlines() if "--create" in ln and f"--topic {topic} " in ln), "")
        assert line, f"kafka-init does not create {topic}"
        assert f"--partitions {partitions} " in line and f"retention.ms={days * 86_400_000}" in line
    assert "--partitions 16 " in resolve(command, {"RAW_TOPIC_PARTITIONS": "16"})


def test_no_literal_secrets(services):
    text = COMPOSE_FILE.read_text()
    assert "PRIVATE KEY" not in text and '"private_key"' not in text
    for name, svc in services.items():
        env = svc.get("environment") or {}
        assert isinstance(env, dict), f"{name}: use the mapping form of environment"
        for key, value in env.items():
            if re.search(r"SECRET|PASSWORD|FERNET|TOKEN|CREDENTIAL", key) and not key.endswith("_FILE"):
                assert str(value).startswith("${") and str(value).endswith("}"), f"{name}: {key} is a literal"


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose is not installed (no Docker)")
def test_docker_compose_config_accepts_the_file(tmp_path):
    """Only AIRFLOW_JWT_SECRET is required; an empty env file keeps a developer's .env out of the test."""
    empty = tmp_path / "empty.env"
    empty.touch()
    cmd = ["docker-compose", "--env-file", str(empty), "-f", str(COMPOSE_FILE), "config", "-q"]
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW_JWT_SECRET"}
    ok = subprocess.run(cmd, env={**env, "AIRFLOW_JWT_SECRET": "test"}, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    missing = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert missing.returncode != 0 and "AIRFLOW_JWT_SECRET" in missing.stderr
