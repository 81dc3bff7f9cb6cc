"""Prometheus, its alert rules and the Grafana dashboard of docker-compose.yaml agree with the pipeline's own rules.

The health DAG alerts from include/game_analytics/health/alerts.yaml; the compose stack's Prometheus alerts from
deploy/prometheus/alerts.rules.yml, a hand-written copy (Prometheus takes no Python). Nothing runs that copy here
(no Docker), so a renamed rule, a changed threshold or a metric that /metrics does not export would only show as an
alert that never fires in production. These tests parse both files and require the same alerts with the same metric,
threshold, severity, summary and message (as a Prometheus template), and every metric the dashboard queries to be one
the stack exports: a game_analytics_* gauge of health/metrics.py or the alert and timestamp gauges /metrics adds
(health_ui/prometheus.py), a name the statsd mappings (or statsd-exporter's default naming of an Airflow metric)
produce, or Prometheus' ALERTS.

Where promtool is installed (Debian's `prometheus` package ships it), Prometheus itself checks the rules and the
config (with the container paths mapped to the files compose mounts there), and `promtool test rules` runs each
alert on a series at its threshold (must not fire) and above it (must fire once, with the rule's labels and the
annotations rendered): the agreement is then one of behaviour, not only of text.
"""

from __future__ import annotations

import copy
import importlib.util
import json
import os
import re
import shutil
import socket
import subprocess
import time
from dataclasses import fields
from pathlib import Path

import httpx
import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from game_analytics.config import Settings
from game_analytics.health.metrics import METRICS, prometheus_name
from game_analytics.health_ui.prometheus import ALERT_FIRING, MEASURED_AT
from game_analytics.localstack.environment import REPO_ROOT

# The health page's fixtures: the real api-server serving /pipeline-health/metrics from seeded warehouse rows, and
# the scrape token it was started with (set in the environment when that conftest is imported, before any test runs).
from tests.ui.conftest import seeded, server  # noqa: F401

DEPLOY = REPO_ROOT / "deploy"
RULES_FILE = DEPLOY / "prometheus" / "alerts.rules.yml"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
STATSD_MAPPINGS = DEPLOY / "statsd" / "mappings.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "pipeline_health.json"
ALERTS_YAML = REPO_ROOT / "include" / "game_analytics" / "health" / "alerts.yaml"
COMPOSE_FILE = REPO_ROOT / "docker-compose.yaml"

# The only form a rule's condition takes: `value > threshold` on the metric's gauge.
_EXPR = re.compile(r"game_analytics_(?P<metric>[a-z0-9_]+) > (?P<threshold>\d+(?:\.\d+)?(?:e[+-]?\d+)?)")
# The placeholders of an alerts.yaml message and the Prometheus template each one becomes (see the rules file).
_PLACEHOLDER = re.compile(r"\{(?P<field>subject|value|threshold)(?::(?P<spec>[^}]*))?\}")
_VALUE_TEMPLATES = {".0f": '{{ printf "%.0f" $value }}', ".2%": "{{ humanizePercentage $value }}"}
_PROMQL_WORDS = set("and or unless bool offset by without on ignoring group_left group_right inf nan".split())
_TIMER_SUFFIXES = ("_sum", "_count", "_bucket")
# Where GA_REQUIRE_PROMETHEUS=1 (CI, which installs the package), a missing binary fails these tests instead.
PROMETHEUS_REQUIRED = os.environ.get("GA_REQUIRE_PROMETHEUS") == "1"


def _needs(binary: str, to: str):
    return pytest.mark.skipif(
        not shutil.which(binary) and not PROMETHEUS_REQUIRED,
        reason=f"{binary} is not installed: `apt-get install prometheus` (Debian's package ships prometheus and "
        f"promtool) to {to}",
    )


needs_promtool = _needs("promtool", "let Prometheus itself check and unit-test deploy/prometheus/")
needs_prometheus = _needs("prometheus", "let a real Prometheus scrape the api-server and evaluate the rules")


def load_yaml(path: Path):
    return yaml.safe_load(path.read_text())


def seed_rules() -> dict[str, dict]:
    """alerts.yaml as committed (no GA_ALERT_* override: the Prometheus file carries the defaults)."""
    return load_yaml(ALERTS_YAML)["rules"]


def prometheus_alerts(rules_doc: dict) -> dict[str, dict]:
    alerts = [rule for group in rules_doc["groups"] for rule in group["rules"]]
    assert all("alert" in rule for rule in alerts), "a recording rule in the alert rules file"
    names = [rule["alert"] for rule in alerts]
    assert len(names) == len(set(names)), f"an alert is defined twice: {names}"
    return {rule["alert"]: rule for rule in alerts}


def runbook_url(rule: str) -> str:
    default_base = next(f.default for f in fields(Settings) if f.name == "airflow_base_url")
    return f"{default_base}/pipeline-health/runbooks#{rule}"


def as_prometheus_template(rule: dict) -> str:
    """The rule's message with its str.format placeholders as Prometheus template expressions."""
    label = METRICS[rule["metric"]].label

    def sub(m: re.Match) -> str:
        field, spec = m["field"], m["spec"] or ""
        if field == "subject":
            assert label, f"{rule['metric']} has no label to carry {{subject}}"
            return "{{ $labels." + label + " }}"
        if field == "value":
            assert spec in _VALUE_TEMPLATES, f"no Prometheus template for {{value:{spec}}}: add one"
            return _VALUE_TEMPLATES[spec]
        return format(rule["threshold"], spec)

    return _PLACEHOLDER.sub(sub, rule["message"])


def disagreements(alerts: dict[str, dict], rules: dict[str, dict]) -> list[str]:
    """Every way the Prometheus alerts differ from alerts.yaml's rules (empty: they agree)."""
    found = [f"{name}: in alerts.yaml, not in {RULES_FILE.name}" for name in rules.keys() - alerts.keys()]
    found += [f"{name}: in {RULES_FILE.name}, not in alerts.yaml" for name in alerts.keys() - rules.keys()]
    for name in sorted(alerts.keys() & rules.keys()):
        alert, rule = alerts[name], rules[name]
        expr = _EXPR.fullmatch(str(alert["expr"]).strip())
        if not expr:
            found.append(f"{name}: expr {alert['expr']!r} is not `game_analytics_<metric> > <threshold>`")
            continue
        if expr["metric"] not in METRICS:
            found.append(f"{name}: {expr['metric']} is not a metric of health/metrics.py")
        if expr["metric"] != rule["metric"]:
            found.append(f"{name}: metric {expr['metric']} != {rule['metric']}")
        if float(expr["threshold"]) != float(rule["threshold"]):
            found.append(f"{name}: threshold {expr['threshold']} != {rule['threshold']}")
        if alert.get("labels") != {"severity": rule["severity"]}:
            found.append(f"{name}: labels {alert.get('labels')} != severity {rule['severity']}")
        expected = {
            "summary": rule["summary"],
            "description": as_prometheus_template(rule),
            "runbook_url": runbook_url(name),
        }
        for key, want in expected.items():
            if alert.get("annotations", {}).get(key) != want:
                found.append(f"{name}: {key} {alert.get('annotations', {}).get(key)!r} != {want!r}")
        if "for" in alert:
            found.append(f"{name}: `for` delays the alert; the rule fires on the latest value")
    return found


def test_the_prometheus_alerts_are_the_rules_of_alerts_yaml():
    rules = seed_rules()
    assert len(rules) == 8
    assert disagreements(prometheus_alerts(load_yaml(RULES_FILE)), rules) == []
    # Each runbook_url's anchor is a section of the runbooks the page serves.
    sections = re.findall(r"^## (\S+)$", (REPO_ROOT / "docs" / "runbooks.md").read_text(), re.M)
    assert set(rules) <= set(sections)


def test_the_comparison_sees_each_kind_of_drift():
    alerts = prometheus_alerts(load_yaml(RULES_FILE))
    rules = seed_rules()

    def drifted(change) -> list[str]:
        copied = copy.deepcopy(alerts)
        change(copied)
        return disagreements(copied, rules)

    assert drifted(lambda a: a.pop("check_warned")) == [f"check_warned: in alerts.yaml, not in {RULES_FILE.name}"]
    assert drifted(lambda a: a["high_kafka_lag"].update(expr="game_analytics_kafka_lag_messages > 1e5")) == []
    assert drifted(lambda a: a["high_kafka_lag"].update(expr="game_analytics_kafka_lag_messages > 500")) == [
        "high_kafka_lag: threshold 500 != 100000"
    ]
    assert "metric" in drifted(lambda a: a["high_dlq_rate"].update(expr="game_analytics_freshness_seconds > 0.01"))[0]
    assert "not a metric" in drifted(lambda a: a["high_dlq_rate"].update(expr="game_analytics_dlq_share > 0.01"))[0]
    assert "is not `game_" in drifted(lambda a: a["high_dlq_rate"].update(expr="game_analytics_dlq_rate >= 0.01"))[0]
    aggregated = "max(game_analytics_freshness_seconds) > 3600"
    assert "is not `game_" in drifted(lambda a: a["data_freshness"].update(expr=aggregated))[0]
    assert "severity" in drifted(lambda a: a["check_failed"]["labels"].update(severity="warning"))[0]
    assert "description" in drifted(lambda a: a["check_failed"]["annotations"].update(description="failed"))[0]
    assert "runbook_url" in drifted(lambda a: a["check_failed"]["annotations"].pop("runbook_url"))[0]
    assert "`for`" in drifted(lambda a: a["ingestion_stalled"].update({"for": "5m"}))[0]


def test_message_placeholders_become_prometheus_templates():
    rule = {
        "metric": "kafka_lag_messages",
        "threshold": 100000,
        "message": "partition {subject} is {value:.0f} behind ({value:.2%}, threshold {threshold:.0f})",
    }
    assert as_prometheus_template(rule) == (
        'partition {{ $labels.partition }} is {{ printf "%.0f" $value }} behind '
        "({{ humanizePercentage $value }}, threshold 100000)"
    )
    with pytest.raises(AssertionError, match="no Prometheus template"):
        as_prometheus_template({**rule, "message": "{value:.3f}"})
    with pytest.raises(AssertionError, match="no label"):
        as_prometheus_template({**rule, "metric": "dlq_rate", "message": "{subject}"})


# --- the Grafana dashboard -------------------------------------------------------------------------------------


def dashboard_targets(dashboard: dict) -> list[dict]:
    panels = [p for top in dashboard["panels"] for p in (top, *top.get("panels", []))]
    return [t for p in panels for t in p.get("targets", [])]


def metric_names(expr: str) -> set[str]:
    """The metric names a PromQL expression selects: strings, label matchers, ranges, grouping clauses, functions,
    keywords and numbers taken out, every identifier left is a metric name."""
    rest = re.sub(r'"(?:[^"\\]|\\.)*"', "", expr)
    rest = re.sub(r"\{[^}]*\}|\[[^\]]*\]", " ", rest)
    rest = re.sub(r"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)", " ", rest)
    rest = re.sub(r"\b[a-zA-Z_]\w*\s*\(", "(", rest)  # function calls
    rest = re.sub(r"(?<![\w.])\d+(?:\.\d+)?(?:e[+-]?\d+)?[smhdwy]?\b", " ", rest)
    return {word for word in re.findall(r"[a-zA-Z_:][\w:]*", rest) if word.lower() not in _PROMQL_WORDS}


def airflow_metric_names() -> tuple[set[str], set[str]]:
    """(names, timer names) statsd-exporter makes of Airflow's stats: the mappings' names, and its default name
    (prefix, dots and dashes as underscores) of every stat in Airflow's metrics registry. Timers are summaries or
    histograms: their _sum/_count(/_bucket) series exist, not only the name."""
    spec = importlib.util.find_spec("airflow")
    registry_file = Path(spec.submodule_search_locations[0], "_shared/observability/metrics/metrics_template.yaml")
    registry = load_yaml(registry_file)["metrics"]
    default = {"airflow_" + re.sub(r"[.\-]", "_", m["name"]): m["type"] for m in registry}
    timer_legacy_globs = {
        re.sub(r"\{\w+\}", "*", m["legacy_name"]) for m in registry if m["type"] == "timer" and m["legacy_name"] != "-"
    }
    mappings = load_yaml(STATSD_MAPPINGS)["mappings"]
    mapped = {m["name"] for m in mappings}
    mapped_timers = {
        m["name"]
        for m in mappings
        if m.get("match_type", "glob") == "glob" and m["match"].removeprefix("airflow.") in timer_legacy_globs
    }
    return mapped | set(default), mapped_timers | {name for name, kind in default.items() if kind == "timer"}


def unknown_metrics(exprs: list[str]) -> set[str]:
    airflow, timers = airflow_metric_names()
    known = {prometheus_name(m) for m in METRICS} | {ALERT_FIRING, MEASURED_AT} | airflow | {"ALERTS"}
    known |= {timer + suffix for timer in timers for suffix in _TIMER_SUFFIXES}
    return {name for expr in exprs for name in metric_names(expr)} - known


def test_metric_names_are_read_from_promql():
    expr = (
        'sum by (dag_id) (increase(airflow_dagrun_duration_sum{dag_id!="x"}[$__rate_interval])) / '
        "sum without (job) (rate(airflow_dagrun_duration_count[1h] offset 5m)) * 60 > bool 1e3 and on(x) ALERTS"
    )
    assert metric_names(expr) == {"airflow_dagrun_duration_sum", "airflow_dagrun_duration_count", "ALERTS"}
    assert metric_names("game_analytics_warned_checks > 0") == {"game_analytics_warned_checks"}


def test_the_dashboard_queries_only_metrics_the_stack_exports():
    targets = dashboard_targets(json.loads(DASHBOARD.read_text()))
    exprs = [t["expr"] for t in targets]
    assert len(exprs) >= 15
    assert unknown_metrics(exprs) == set()
    # The checker itself: a gauge health/metrics.py does not define, a misspelt Airflow name, a counter read as a
    # timer would all show as no data.
    assert unknown_metrics(["game_analytics_dlq_share", "airflow_dagrun_durations_sum"]) == {
        "game_analytics_dlq_share",
        "airflow_dagrun_durations_sum",
    }
    assert unknown_metrics(["airflow_operator_failures_count", "airflow_ti_failures"]) == {
        "airflow_operator_failures_count"
    }


def test_the_dashboard_shows_what_the_issue_asks_for():
    dashboard = json.loads(DASHBOARD.read_text())
    targets = dashboard_targets(dashboard)
    used = {name for t in targets for name in metric_names(t["expr"])}
    wanted = {
        "events_per_second",
        "kafka_lag_messages",
        "dlq_rate",
        "freshness_seconds",
        "events_24h",
        "failed_checks",
        "warned_checks",
        "dag_run_failed",
    }
    assert {prometheus_name(m) for m in wanted} <= used
    assert {"ALERTS", ALERT_FIRING, MEASURED_AT} <= used
    assert {"airflow_dagrun_duration_sum", "airflow_dagrun_failed_count", "airflow_operator_failures"} <= used
    # A legend names the label the gauge really carries (health/metrics.py), or shows one empty series per subject.
    for t in targets:
        legend_labels = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", t.get("legendFormat", "")))
        for name in metric_names(t["expr"]) & {prometheus_name(m) for m in METRICS}:
            assert legend_labels <= {METRICS[name.removeprefix("game_analytics_")].label}, (t["expr"], legend_labels)
    # Every query goes to the provisioned data source.
    datasource = load_yaml(DEPLOY / "grafana" / "provisioning" / "datasources" / "prometheus.yml")["datasources"][0]
    assert {t["datasource"]["uid"] for t in targets} == {datasource["uid"]}
    assert datasource["url"] == "http://prometheus:9090"
    assert dashboard["uid"] and dashboard["title"] == "Pipeline health"


# --- Prometheus itself (promtool) ------------------------------------------------------------------------------


def promtool(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    assert shutil.which("promtool"), "promtool is not installed and GA_REQUIRE_PROMETHEUS=1 says this test must run"
    return subprocess.run(["promtool", *args], capture_output=True, text=True, cwd=cwd, timeout=60)


@needs_promtool
def test_promtool_accepts_the_rules_and_the_config_as_compose_mounts_them(tmp_path):
    checked = promtool("check", "rules", str(RULES_FILE))
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "SUCCESS: 8 rules found" in checked.stdout
    # prometheus.yml names container paths: map each to the file compose mounts there, the token to a tmp file.
    service = load_yaml(COMPOSE_FILE)["services"]["prometheus"]
    config = PROMETHEUS_CONFIG.read_text()
    for volume in service["volumes"]:
        host, container = volume.split(":")[:2]
        if host.startswith("./"):
            config = config.replace(container, str(REPO_ROOT / host))
    token = tmp_path / "metrics-token"
    token.write_text("not-a-real-token")
    config = config.replace("/run/prometheus-secrets/metrics-token", str(token))
    assert "/etc/" not in config and "/run/" not in config, "prometheus.yml reads a file compose does not provide"
    (tmp_path / "prometheus.yml").write_text(config)
    checked = promtool("check", "config", str(tmp_path / "prometheus.yml"))
    assert checked.returncode == 0, checked.stdout + checked.stderr


def render_annotation(template: str, labels: dict[str, str], value: float) -> str:
    """The Prometheus template constructs the rules use, rendered as Prometheus does (promtool checks this)."""

    def humanize(v: float) -> str:  # Prometheus' humanize for 1 <= v < 1000 (the values chosen below)
        assert 1 <= abs(v) < 1000, v
        return f"{v:.4g}"

    text = re.sub(r"\{\{ \$labels\.(\w+) \}\}", lambda m: labels[m[1]], template)
    text = text.replace(_VALUE_TEMPLATES[".0f"], format(value, ".0f"))
    if _VALUE_TEMPLATES[".2%"] in text:
        text = text.replace(_VALUE_TEMPLATES[".2%"], humanize(value * 100) + "%")
    assert "{{" not in text, f"a template construct this test does not render: {text}"
    return text


SUBJECTS = {
    "partition": "3",
    "reason": "invalid_json",
    "event_group": "level",
    "day": "2026-02-28",
    "check": "events.row_count@2026-02-28",
    "dag_id": "game_analytics_daily",
}


@needs_promtool
def test_each_alert_fires_above_its_threshold_and_not_at_it(tmp_path):
    """For each rule of alerts.yaml: its gauge at the threshold for a minute, then above it. Prometheus must not
    fire at the threshold (the condition is `>`), and then fire exactly that alert, with the subject's label, the
    rule's severity and the annotations rendered."""
    alerts = prometheus_alerts(load_yaml(RULES_FILE))
    tests = []
    for name, rule in seed_rules().items():
        label = METRICS[rule["metric"]].label
        labels = {label: SUBJECTS[label]} if label else {}
        threshold = float(rule["threshold"])
        above = 2.0 if threshold == 0 else threshold * 1.5
        selector = ",".join(f'{k}="{v}"' for k, v in labels.items())
        annotations = {k: render_annotation(v, labels, above) for k, v in alerts[name]["annotations"].items()}
        tests.append(
            {
                "interval": "1m",
                "input_series": [
                    {
                        "series": f"{prometheus_name(rule['metric'])}{{{selector}}}",
                        "values": f"{rule['threshold']} {above}",
                    }
                ],
                "alert_rule_test": [
                    {"eval_time": "0m", "alertname": name, "exp_alerts": []},
                    {
                        "eval_time": "1m",
                        "alertname": name,
                        "exp_alerts": [
                            {"exp_labels": {**labels, "severity": rule["severity"]}, "exp_annotations": annotations}
                        ],
                    },
                    # No other rule watches this gauge.
                    *({"eval_time": "1m", "alertname": other, "exp_alerts": []} for other in alerts if other != name),
                ],
            }
        )
    unit = tmp_path / "alerts.test.yml"
    unit.write_text(yaml.safe_dump({"rule_files": [str(RULES_FILE)], "evaluation_interval": "1m", "tests": tests}))
    ran = promtool("test", "rules", str(unit))
    assert ran.returncode == 0, ran.stdout + ran.stderr
    # The same run against a rule file that fires at the threshold (>=) must fail: the test can see it.
    loose = tmp_path / "loose.rules.yml"
    loose.write_text(RULES_FILE.read_text().replace(" > ", " >= "))
    unit.write_text(unit.read_text().replace(str(RULES_FILE), str(loose)))
    assert promtool("test", "rules", str(unit)).returncode != 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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
def test_prometheus_scrapes_the_api_server_and_fires_what_alerts_yaml_fires(tmp_path, server, seeded):  # noqa: F811
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
    api = f"http://127.0.0.1:{_free_port()}/api/v1"
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
        except httpx.HTTPError:
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
