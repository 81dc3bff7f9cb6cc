"""The monitoring services of docker-compose.yaml (statsd-exporter, Prometheus, Grafana) are wired to each other and
to Airflow: hosts, ports and mounted paths that the other side really uses.

No Docker engine runs here, so a statsd port Airflow does not send to, a scrape target nothing listens on or a
dashboard folder mounted where Grafana does not look would only show as empty graphs. The compose file is read with
the helpers of tests/test_docker_compose.py (which also syntax-checks these services' scripts); the start scripts
that handle the secrets (the metrics token, Grafana's admin password) are run in a shell here, with their container
paths moved under tmp. The rules and the dashboard are checked against the pipeline in the other modules of this
folder.
"""

from __future__ import annotations

import ast
import os
import re
import subprocess
from pathlib import Path, PurePosixPath

from game_analytics.localstack.environment import REPO_ROOT
from tests.monitoring._helpers import PROMETHEUS_CONFIG, STATSD_MAPPINGS, load_yaml
from tests.test_docker_compose import AIRFLOW, resolve, shell_scripts


def _mounts(svc: dict) -> dict[str, str]:
    """container path -> host path of a service's bind mounts of repository files."""
    pairs = (resolve(v).split(":")[:2] for v in svc.get("volumes", []))
    return {container: host for host, container in pairs if host.startswith("./")}


def _flag(svc: dict, flag: str) -> str:
    return next(arg.split("=", 1)[1] for arg in svc["command"] if arg.startswith(f"--{flag}="))


def test_monitoring_files_are_mounted_where_the_services_read_them(services):
    for name in ("statsd-exporter", "prometheus", "grafana"):
        for container, host in _mounts(services[name]).items():
            assert (REPO_ROOT / host).exists(), f"{name}: {host} (mounted at {container}) is not in the repository"
    statsd = services["statsd-exporter"]
    assert _mounts(statsd)[_flag(statsd, "statsd.mapping-config")] == "./deploy/statsd/mappings.yml"
    prometheus = load_yaml(PROMETHEUS_CONFIG)
    assert [_mounts(services["prometheus"]).get(f) for f in prometheus["rule_files"]] == [
        "./deploy/prometheus/alerts.rules.yml"
    ]
    grafana = services["grafana"]
    assert _mounts(grafana)["/etc/grafana/provisioning"] == "./deploy/grafana/provisioning"
    provider = load_yaml(REPO_ROOT / "deploy/grafana/provisioning/dashboards/pipeline_health.yml")
    folder = provider["providers"][0]["options"]["path"]
    assert _mounts(grafana)[folder] == "./deploy/grafana/dashboards"
    home = PurePosixPath(grafana["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"])
    assert (REPO_ROOT / _mounts(grafana)[str(home.parent)] / home.name).is_file()


def _module_constant(path: Path, name: str) -> str:
    """A module's string constant, read from its source; `NAME = OTHER` with OTHER imported from a game_analytics
    module (the plugin's HEALTH_PREFIX is health/rules.py's HEALTH_PAGE_PATH) is read where OTHER is defined."""
    tree = ast.parse(path.read_text())
    values = [
        node.value
        for node in tree.body
        if isinstance(node, ast.Assign) and [getattr(target, "id", "") for target in node.targets] == [name]
    ]
    assert len(values) == 1, f"{path.name} defines {name} {len(values)} times"
    if isinstance(values[0], ast.Name):
        imported = [
            (node.module, alias.name)
            for node in tree.body
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("game_analytics.")
            for alias in node.names
            if (alias.asname or alias.name) == values[0].id
        ]
        assert len(imported) == 1, f"{path.name}: {name} = {values[0].id}, not imported from game_analytics"
        module, original = imported[0]
        return _module_constant(REPO_ROOT / "include" / Path(*module.split(".")).with_suffix(".py"), original)
    assert isinstance(values[0], ast.Constant), f"{path.name}: {name} is not a constant"
    return values[0].value


def test_airflow_sends_statsd_to_the_exporter_and_prometheus_scrapes_what_listens(services):
    udp_port = _flag(services["statsd-exporter"], "statsd.listen-udp").rsplit(":", 1)[1]
    mappings = load_yaml(STATSD_MAPPINGS)["mappings"]
    for name in AIRFLOW:
        env = services[name]["environment"]
        assert env["AIRFLOW__METRICS__STATSD_ON"].lower() == "true", name
        assert (env["AIRFLOW__METRICS__STATSD_HOST"], env["AIRFLOW__METRICS__STATSD_PORT"]) == (
            "statsd-exporter",
            udp_port,
        )
        # Every rule (a regex one as `^airflow\.`) expects the prefix Airflow is given.
        prefix = env["AIRFLOW__METRICS__STATSD_PREFIX"] + "."
        assert all(m["match"].removeprefix("^").replace("\\.", ".").startswith(prefix) for m in mappings)
        assert "statsd-exporter" in services[name]["depends_on"], f"{name} starts before the name resolves"
    listens = {
        "statsd-exporter": _flag(services["statsd-exporter"], "web.listen-address").rsplit(":", 1)[1],
        "airflow-apiserver": services["airflow-apiserver"]["ports"][0].rsplit(":", 1)[1],
        "localhost": services["prometheus"]["ports"][0].rsplit(":", 1)[1],
    }
    config = load_yaml(PROMETHEUS_CONFIG)
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    for job in jobs.values():
        for target in (t for group in job["static_configs"] for t in group["targets"]):
            host, port = target.rsplit(":", 1)
            assert listens.get(host) == port, f"{job['job_name']}: nothing listens on {target}"
    health = jobs["pipeline-health"]
    # The plugin's prefix and route, read from the source (importing the plugin imports Airflow).
    prefix = _module_constant(REPO_ROOT / "plugins" / "game_analytics_plugin.py", "HEALTH_PREFIX")
    assert '@app.get("/metrics"' in (REPO_ROOT / "include/game_analytics/health_ui/app.py").read_text()
    assert health["metrics_path"] == prefix + "/metrics"
    assert health["static_configs"][0]["targets"] == ["airflow-apiserver:" + listens["airflow-apiserver"]]


def _run_start_script(services: dict, name: str, paths: dict[str, Path], env: dict[str, str], exec_as: str):
    """A service's `sh -c` start script, run here with its container paths moved under tmp and its one final
    `exec` line (what the container would start) replaced by `exec_as`."""
    script = next(s for where, _, s in shell_scripts(services) if where == f"{name} command")
    for container, local in paths.items():
        script = script.replace(container, str(local))
    script, replaced = re.subn(r"^(\s*)exec .*$", lambda m: f"{m[1]}exec {exec_as}", script, flags=re.M)
    assert replaced == 1 and "\\\n" not in script, f"{name}: expected one one-line `exec` at the end"
    env = {"PATH": os.environ["PATH"], **env}
    return subprocess.run(["sh", "-c", script], env=env, capture_output=True, text=True, timeout=30)


def test_prometheus_gets_the_metrics_token_from_the_environment_on_a_tmpfs(services, tmp_path):
    config = load_yaml(PROMETHEUS_CONFIG)
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "pipeline-health")
    token_file = PurePosixPath(job["authorization"]["credentials_file"])
    assert job["authorization"]["type"] == "Bearer"
    assert str(token_file.parent) in services["prometheus"]["tmpfs"], "the token would be written to a volume"
    env = services["prometheus"]["environment"]
    variable = _module_constant(REPO_ROOT / "include/game_analytics/health_ui/auth.py", "METRICS_TOKEN_VARIABLE")
    assert variable == "GA_METRICS_TOKEN", "the start script and this test name the variable /metrics reads"
    assert env[variable] == services["airflow-apiserver"]["environment"][variable] == "${GA_METRICS_TOKEN:-}"
    assert "GA_METRICS_TOKEN" not in services["airflow-scheduler"]["environment"]
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    ran = _run_start_script(
        services,
        "prometheus",
        {str(token_file.parent): secrets},
        {"GA_METRICS_TOKEN": "t0k3n", "PROMETHEUS_RETENTION": "15d"},
        exec_as=f"cat {secrets / token_file.name}",
    )
    assert ran.returncode == 0 and ran.stdout == "t0k3n", ran.stderr
    assert oct((secrets / token_file.name).stat().st_mode & 0o777) == "0o600"


def test_grafana_admin_password_comes_from_the_environment_or_is_generated_once(services, tmp_path):
    env = services["grafana"]["environment"]
    assert re.fullmatch(r"\$\{GRAFANA_ADMIN_PASSWORD:-\}", env["GF_SECURITY_ADMIN_PASSWORD"])
    assert env["GF_AUTH_ANONYMOUS_ENABLED"] == "false" and env["GF_USERS_ALLOW_SIGN_UP"] == "false"
    show = "sh -c 'echo \"password=${GF_SECURITY_ADMIN_PASSWORD-<unset>}\"'"

    def start(password: str):
        ran = _run_start_script(
            services, "grafana", {"/var/lib/grafana": tmp_path}, {"GF_SECURITY_ADMIN_PASSWORD": password}, show
        )
        assert ran.returncode == 0, ran.stderr
        return ran.stdout.splitlines()

    assert start("chosen") == ["password=chosen"]
    generated = start("")
    assert len(generated) == 2 and generated[0].startswith("Generated the password of Grafana user 'admin': ")
    assert generated[1] == "password=" + generated[0].split(": ", 1)[1].split()[0] and len(generated[1]) > 24
    (tmp_path / "grafana.db").touch()  # after the first start the database holds the password: nothing to set
    assert start("") == ["password=<unset>"]
