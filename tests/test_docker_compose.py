"""The production-like stack (docker-compose.yaml), checked by reading it: no Docker engine runs here.

Nothing else exercises this file (`make run` uses the Python servers), so a broken service name, a missing
mount or a secret pasted into it would only show on the first `docker compose up`. PyYAML's safe_load resolves
the `<<: *airflow-common` merge keys; `${VAR:-default}` is resolved by a small helper where a value matters.
Parsing the YAML says nothing about the programs it holds (an over-indented line in airflow-init's Python once
made the init job, and so every Airflow service, fail), so every shell script a container runs goes through
`bash -n`/`sh -n` and every Python block in them through `compile()`, as Docker would pass them. Where the
`docker-compose` binary exists (Debian's package), `docker-compose config` checks the file as Compose reads it.
The monitoring services (statsd-exporter, Prometheus, Grafana) are checked in tests/monitoring/: their wiring and
start scripts in test_compose_monitoring.py (which reads the compose file with the helpers and fixture defined
here), their rules and dashboard against the pipeline in the other modules there.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import fields
from pathlib import Path, PurePosixPath
from urllib.parse import urlsplit

import pytest
import yaml

from game_analytics.config import Settings
from game_analytics.localstack.environment import REPO_ROOT

COMPOSE_FILE = REPO_ROOT / "docker-compose.yaml"
AIRFLOW = [
    "airflow-init", "airflow-apiserver", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
    "airflow-worker",
]  # fmt: skip
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


def unescape(script: str) -> str:
    """The text a container receives: `${VAR...}` interpolated (only JWT_SECRET is required), `$$` becomes `$`."""
    return resolve(script, {"AIRFLOW_JWT_SECRET": "test"}).replace("$$", "$")


def _argv(value) -> list[str]:
    if value is None:
        return []
    return shlex.split(value) if isinstance(value, str) else [str(v) for v in value]


def shell_scripts(services: dict) -> list[tuple[str, str, str]]:
    """(where, shell, script) for every script a shell runs: `bash|sh -c` entrypoint/command, CMD-SHELL checks."""
    found = []
    for name, svc in services.items():
        argv = _argv(svc.get("entrypoint")) + _argv(svc.get("command"))
        shell = PurePosixPath(argv[0]).name if argv else ""
        if shell in ("bash", "sh"):
            assert "-c" in argv[:-1], f"{name}: {shell} without -c <script>"
            found.append((f"{name} command", shell, unescape(argv[argv.index("-c") + 1])))
        test = (svc.get("healthcheck") or {}).get("test")
        if isinstance(test, str):
            found.append((f"{name} healthcheck", "sh", unescape(test)))
        elif test and test[0] == "CMD-SHELL":
            found.append((f"{name} healthcheck", "sh", unescape(test[1])))
    return found


_HEREDOC = re.compile(r"\bpython[\d.]*\b[^\n]*<<-?\s*(['\"]?)(\w+)\1[^\n]*\n(.*?)^\t*\2$", re.S | re.M)
_DASH_C = re.compile(r"""\bpython[\d.]*\s+-c\s+('([^']*)'|"((?:[^"\\]|\\.)*)")""", re.S)


def python_blocks(script: str) -> list[str]:
    """The Python a script hands to the interpreter: `python - <<'TAG'` heredocs and `python -c '...'` strings."""
    blocks = [m.group(3) for m in _HEREDOC.finditer(script)]
    for m in _DASH_C.finditer(script):
        blocks.append(m.group(2) if m.group(2) is not None else m.group(3).replace('\\"', '"'))
    return blocks


def check_scripts(services: dict) -> int:
    """`bash -n`/`sh -n` every script, `compile()` every Python block; returns how many Python blocks it compiled."""
    compiled = 0
    for where, shell, script in shell_scripts(services):
        syntax = subprocess.run([shell, "-n"], input=script, capture_output=True, text=True)
        assert syntax.returncode == 0, f"{where}: `{shell} -n` rejects the script: {syntax.stderr}"
        for i, block in enumerate(python_blocks(script)):
            try:
                compile(block, f"<{where}, python block {i}>", "exec")
            except SyntaxError as exc:
                raise AssertionError(f"{where}: python block {i} does not compile: {exc}") from exc
            compiled += 1
    return compiled


@pytest.fixture(scope="module")
def services() -> dict:
    return yaml.safe_load(COMPOSE_FILE.read_text())["services"]


def test_required_services_and_no_zookeeper(services):
    assert set(AIRFLOW + ["postgres", "redis", "kafka", "kafka-init"]) <= set(services)
    assert not [name for name, svc in services.items() if "zookeeper" in f"{name} {svc.get('image', '')}"]


def test_airflow_services_share_image_build_and_mounts(services):
    images = {services[s]["image"] for s in AIRFLOW}
    builds = {json.dumps(services[s]["build"], sort_keys=True) for s in AIRFLOW}
    assert len(images) == 1 and len(builds) == 1
    assert services["airflow-init"]["build"] == {"context": ".", "dockerfile": "docker/Dockerfile"}
    dockerfile = (REPO_ROOT / "docker" / "Dockerfile").read_text()
    assert "FROM apache/airflow:3.3.2-python3.11" in dockerfile and "--no-deps" in dockerfile
    # The installed package finds the SQL through GA_SQL_DIR: the image points it at where compose mounts sql/.
    sql_dir = re.search(r"^ENV GA_SQL_DIR=(\S+)$", dockerfile, re.M)
    assert sql_dir, "docker/Dockerfile does not set GA_SQL_DIR"
    for name in AIRFLOW:
        mounts = {resolve(v).split(":")[1]: resolve(v).split(":")[0] for v in services[name]["volumes"]}
        for folder in ("dags", "plugins", "sql", "include"):
            assert mounts.get(f"/opt/airflow/{folder}") == f"./{folder}", (name, folder)
        assert mounts.get(sql_dir.group(1)) == "./sql", name
        assert services[name]["environment"]["PYTHONPATH"] == "/opt/airflow/include"


def test_airflow_environment(services):
    api_port = services["airflow-apiserver"]["ports"][0].rsplit(":", 1)[1]
    for name in AIRFLOW:
        env = services[name]["environment"]
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
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


def test_celery_executor_with_redis_and_a_worker_that_scales(services):
    """`docker compose up --scale airflow-worker=N` works: the worker has no fixed name and no host port, every
    Airflow container reaches the same broker (Redis, healthy before they start) and result backend (the metadata
    DB), and the worker gets SIGTERM alone to finish its tasks (warm shutdown), as in the official file."""
    redis = services["redis"]
    assert resolve(redis["image"]).startswith("redis:7.2") and "ping" in redis["healthcheck"]["test"]
    assert "ports" not in redis, "the broker is reached by service name only"
    worker = services["airflow-worker"]
    assert worker["command"] == "celery worker"
    assert "container_name" not in worker and "ports" not in worker, "a fixed name or host port stops --scale"
    assert not [name for name, svc in services.items() if "container_name" in svc]
    assert 'inspect ping -d "celery@$${HOSTNAME}"' in worker["healthcheck"]["test"][1]
    assert worker["environment"]["DUMB_INIT_SETSID"] == "0"
    assert worker["depends_on"]["airflow-apiserver"]["condition"] == "service_healthy"
    for name in AIRFLOW[1:]:
        env = services[name]["environment"]
        broker = urlsplit(env["AIRFLOW__CELERY__BROKER_URL"])
        assert (broker.scheme, broker.hostname, broker.port) == ("redis", "redis", 6379), name
        backend = urlsplit(resolve(env["AIRFLOW__CELERY__RESULT_BACKEND"]))
        database = urlsplit(resolve(env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]))
        # The driver named: SQLAlchemy 2.1 would pick psycopg 3 for db+postgresql://, which is not installed
        assert backend.scheme == "db+postgresql+psycopg2", name
        assert (backend.hostname, backend.password, backend.path) == (database.hostname, database.password, "/airflow")
        assert services[name]["depends_on"]["redis"]["condition"] == "service_healthy", name


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


def test_every_embedded_script_and_python_block_compiles(services):
    where = {w for w, _, _ in shell_scripts(services)}
    assert {"airflow-init command", "kafka-init command", "airflow-triggerer healthcheck"} <= where
    assert {"prometheus command", "grafana command"} <= where
    init = next(script for w, _, script in shell_scripts(services) if w == "airflow-init command")
    assert len(python_blocks(init)) == 1, "the password-file block of airflow-init was not found"
    assert check_scripts(services) >= 1


def test_script_checks_catch_a_bad_indent_and_a_bad_script():
    """The checker itself: the airflow-init block as it once was (print indented under nothing) must be refused."""
    old = "python - <<'PY'\nimport os\npath = os.sep\nprint(path)\n    print(f'{path}')\nPY\n"
    with pytest.raises(AssertionError, match="python block 0 does not compile"):
        check_scripts({"init": {"entrypoint": "/bin/bash", "command": ["-c", old]}})
    with pytest.raises(AssertionError, match="python block 0 does not compile"):
        check_scripts({"init": {"command": ["bash", "-c", "python3 -c 'if True:\nprint(1)'"]}})
    with pytest.raises(AssertionError, match="`sh -n` rejects"):
        check_scripts({"db": {"healthcheck": {"test": ["CMD-SHELL", "if true; then echo"]}}})
    assert check_scripts({"ok": {"entrypoint": ["sh", "-c"], "command": ['python -c "print(\\"x\\")"']}}) == 1


def test_dockerfile_run_steps_are_valid_sh():
    text = (REPO_ROOT / "docker" / "Dockerfile").read_text()
    steps = [ln[4:] for ln in re.sub(r"\\\n", " ", text).splitlines() if ln.startswith("RUN ")]
    assert len(steps) >= 2
    for step in steps:
        syntax = subprocess.run(["sh", "-n"], input=step, capture_output=True, text=True)
        assert syntax.returncode == 0, f"Dockerfile `RUN {step}`: {syntax.stderr}"


def test_no_literal_secrets(services):
    text = COMPOSE_FILE.read_text()
    assert "PRIVATE KEY" not in text and '"private_key"' not in text
    for name, svc in services.items():
        env = svc.get("environment") or {}
        assert isinstance(env, dict), f"{name}: use the mapping form of environment"
        for key, value in env.items():
            if re.search(r"SECRET|PASSWORD|FERNET|TOKEN|CREDENTIAL", key) and not key.endswith("_FILE"):
                assert str(value).startswith("${") and str(value).endswith("}"), f"{name}: {key} is a literal"


def test_published_ports_are_on_loopback_unless_a_setting_says_otherwise(services):
    published = [port for svc in services.values() for port in svc.get("ports", [])]
    assert published, "no published ports found"
    assert all(resolve(port).startswith("127.0.0.1:") for port in published), published
    opened = [resolve(port, {"GA_BIND_HOST": "0.0.0.0"}) for port in published]
    assert all(port.startswith("0.0.0.0:") for port in opened), opened


@pytest.mark.skipif(not shutil.which("docker-compose"), reason="docker-compose is not installed (no Docker)")
def test_docker_compose_config_accepts_the_file(tmp_path):
    """Only AIRFLOW_JWT_SECRET is required; an empty env file keeps a developer's .env out of the test.

    Skipped only where the binary is absent; .ci/run installs Debian's `docker-compose` (1.29) so CI runs it.
    """
    empty = tmp_path / "empty.env"
    empty.touch()
    cmd = ["docker-compose", "--env-file", str(empty), "-f", str(COMPOSE_FILE), "config", "-q"]
    env = {k: v for k, v in os.environ.items() if k != "AIRFLOW_JWT_SECRET"}
    ok = subprocess.run(cmd, env={**env, "AIRFLOW_JWT_SECRET": "test"}, capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    # The same script checks on the file as Compose resolved it (what the containers would be given).
    shown = subprocess.run(cmd[:-1], env={**env, "AIRFLOW_JWT_SECRET": "test"}, capture_output=True, text=True)
    assert shown.returncode == 0, shown.stderr
    assert check_scripts(yaml.safe_load(shown.stdout)["services"]) >= 1
    missing = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert missing.returncode != 0 and "AIRFLOW_JWT_SECRET" in missing.stderr


def test_images_are_pinned(services):
    for name, svc in services.items():
        image = resolve(svc["image"])
        repo, _, tag = image.rpartition(":")
        assert repo and "/" not in tag and tag not in ("", "latest"), f"{name}: pin the tag of {image}"


def provider_config_sections() -> dict:
    """The config sections of every installed Airflow provider, from its get_provider_info module (a plain dict),
    run from its file: importing it the usual way imports the airflow package first, seconds on 2 busy cores."""
    sections = {}
    for provider in importlib.metadata.entry_points(group="apache_airflow_provider"):
        module_name, function = provider.value.split(":")
        path = provider.dist.locate_file(module_name.replace(".", "/") + ".py")
        spec = importlib.util.spec_from_file_location(f"_info_of_{module_name}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        sections.update(getattr(module, function)().get("config") or {})
    return sections


def test_every_airflow_setting_is_an_option_of_the_installed_airflow(services):
    """A misspelt AIRFLOW__<SECTION>__<KEY> is silently ignored (StatsD would just stay off): each one must be an
    option of Airflow's own config reference (config_templates/config.yml of the installed 3.3) or of an installed
    provider's ([celery] is the Celery provider's), of its type."""
    spec = importlib.util.find_spec("airflow")
    reference = yaml.safe_load(Path(spec.submodule_search_locations[0], "config_templates/config.yml").read_text())
    for section, spec in provider_config_sections().items():
        reference.setdefault(section, {}).setdefault("options", {}).update(spec.get("options", {}))
    checked = 0
    for name, svc in services.items():
        for key, value in (svc.get("environment") or {}).items():
            if not key.startswith("AIRFLOW__"):
                continue
            section, option = key.removeprefix("AIRFLOW__").lower().split("__", 1)
            known = (reference.get(section) or {}).get("options", {})
            assert option in known, f"{name}: {key} is not an option of Airflow's [{section}]"
            kind, value = known[option]["type"], resolve(value, {"AIRFLOW_JWT_SECRET": "x"})
            assert kind != "boolean" or value.lower() in ("true", "false"), f"{name}: {key}={value}"
            assert kind != "integer" or value.isdigit(), f"{name}: {key}={value}"
            checked += 1
    assert checked >= 15 * len(AIRFLOW)
