"""A real Prometheus scrapes the real api-server's /metrics and fires what alerts.yaml would fire.

test_rules_agree.py and test_promtool.py check the rules against series written by hand; this test closes the loop
with the series the api-server really serves: deploy/prometheus/'s scrape job (its path and bearer token) must
reach /pipeline-health/metrics, Prometheus must hold every game_analytics_* series with its value, and its rules
must fire for exactly the (rule, subject) pairs that alerts.yaml's condition picks from the same exposition. It
starts the Airflow stack (the health page's fixtures), so it takes minutes, and runs where `prometheus` is installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time

import httpx
import yaml
from prometheus_client.parser import text_string_to_metric_families

from game_analytics.health.metrics import METRICS, prometheus_name
from game_analytics.localstack.servers import free_port
from tests.monitoring._helpers import PROMETHEUS_CONFIG, RULES_FILE, load_yaml, needs_prometheus, seed_rules


def _wait_for(probe, what: str, timeout: float = 90.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}")


def exposition_samples(exposition: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
    }


def firing_by_alerts_yaml(exposition: str) -> set[tuple[str, str]]:
    """(rule, subject) of every rule of alerts.yaml whose gauge in this /metrics text is above its threshold."""
    samples = exposition_samples(exposition)
    firing = set()
    for name, rule in seed_rules().items():
        for (metric, labels), value in samples.items():
            if metric == prometheus_name(rule["metric"]) and value > float(rule["threshold"]):
                firing.add((name, dict(labels).get(METRICS[rule["metric"]].label, "")))
    return firing


@needs_prometheus
def test_prometheus_scrapes_the_api_server_and_fires_what_alerts_yaml_fires(tmp_path, server, seeded):
    """A real Prometheus with deploy/prometheus/'s scrape job (its path and bearer token file; only the target and
    the file paths moved here) scrapes the real api-server's /metrics, holds the seeded values, and its rules fire
    for exactly the (rule, subject) pairs that alerts.yaml's condition picks from the same exposition."""
    assert shutil.which("prometheus"), "prometheus is not installed and GA_REQUIRE_PROMETHEUS=1 says this test must run"
    config = load_yaml(PROMETHEUS_CONFIG)
    job = next(j for j in config["scrape_configs"] if j["job_name"] == "pipeline-health")
    token = tmp_path / "metrics-token"
    token.write_text(os.environ["GA_METRICS_TOKEN"])
    job.update(scrape_interval="1s", static_configs=[{"targets": [server.removeprefix("http://")]}])
    job["authorization"]["credentials_file"] = str(token)
    config = {
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES_FILE)],
        "scrape_configs": [job],
    }
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config))
    api = f"http://127.0.0.1:{free_port()}/api/v1"
    log = (tmp_path / "prometheus.log").open("w")
    process = subprocess.Popen(
        [
            "prometheus",
            f"--config.file={tmp_path / 'prometheus.yml'}",
            f"--storage.tsdb.path={tmp_path / 'data'}",
            f"--web.listen-address={api.removeprefix('http://').removesuffix('/api/v1')}",
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def query(promql: str) -> list[dict]:
        return httpx.get(f"{api}/query", params={"query": promql}, timeout=10).json()["data"]["result"]

    def ready(url: str):
        try:
            return httpx.get(url, timeout=5).json()["data"]
        except (httpx.HTTPError, ValueError):  # not up yet; while starting it answers "Service Unavailable" as text
            return None

    try:
        targets = _wait_for(lambda: (ready(f"{api}/targets") or {}).get("activeTargets"), "Prometheus' target")
        assert [t["scrapeUrl"] for t in targets] == [f"{server}/pipeline-health/metrics"]
        _wait_for(lambda: query("game_analytics_events_per_second"), "a successful scrape")
        health = ready(f"{api}/targets")["activeTargets"][0]
        assert (health["health"], health["lastError"]) == ("up", ""), health
        groups = _wait_for(lambda: ready(f"{api}/rules")["groups"], "the rules to load")
        assert {r["name"] for g in groups for r in g["rules"]} == set(seed_rules())
        time.sleep(3)  # a few evaluations after the first scrape
        alerts = ready(f"{api}/alerts")["alerts"]
        exposition = httpx.get(
            f"{server}/pipeline-health/metrics", headers={"Authorization": f"Bearer {token.read_text()}"}, timeout=60
        ).text
        # Prometheus holds what the api-server serves: every game_analytics_* series, with its value.
        held = {
            (
                r["metric"].pop("__name__"),
                tuple(sorted((k, v) for k, v in r["metric"].items() if k not in ("job", "instance"))),
            ): float(r["value"][1])
            for r in query('{__name__=~"game_analytics_.+"}')
        }
        assert held == exposition_samples(exposition)
        expected = firing_by_alerts_yaml(exposition)
        assert expected, "the seed makes no rule fire: the comparison would say nothing"
        labels = {name: METRICS[rule["metric"]].label for name, rule in seed_rules().items()}
        fired = {
            (a["labels"]["alertname"], a["labels"].get(labels[a["labels"]["alertname"]], ""))
            for a in alerts
            if a["state"] == "firing"
        }
        assert fired == expected
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
