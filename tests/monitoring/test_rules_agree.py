"""Prometheus' alert rules and the Grafana dashboard of docker-compose.yaml agree with the pipeline's own rules.

The health DAG alerts from include/game_analytics/health/alerts.yaml; the compose stack's Prometheus alerts from
deploy/prometheus/alerts.rules.yml, a hand-written copy (Prometheus takes no Python). Nothing runs that copy here
(no Docker), so a renamed rule, a changed threshold or a metric that /metrics does not export would only show as an
alert that never fires in production. These tests parse both files and require the same alerts with the same metric,
threshold, severity, summary and message (as a Prometheus template), and every metric the dashboard queries to be one
the stack exports: a game_analytics_* gauge of health/metrics.py or the alert and timestamp gauges /metrics adds
(health_ui/prometheus.py), a name the statsd mappings (or statsd-exporter's default naming of an Airflow metric)
produce, or Prometheus' ALERTS. That is an agreement of text; test_promtool.py and test_prometheus_scrape.py make it
one of behaviour, with Prometheus itself running the rules.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import fields

import pytest

from game_analytics.config import Settings
from game_analytics.health.metrics import METRICS, prometheus_name
from game_analytics.health_ui.prometheus import ALERT_FIRING, MEASURED_AT
from game_analytics.localstack.environment import REPO_ROOT
from tests.monitoring import statsd_mapper
from tests.monitoring._helpers import (
    DASHBOARD,
    DEPLOY,
    RULES_FILE,
    STATSD_MAPPINGS,
    STATSD_NAMES,
    VALUE_TEMPLATES,
    load_yaml,
    prometheus_alerts,
    seed_rules,
)

# The only form a rule's condition takes: `value > threshold` on the metric's gauge.
_EXPR = re.compile(r"game_analytics_(?P<metric>[a-z0-9_]+) > (?P<threshold>\d+(?:\.\d+)?(?:e[+-]?\d+)?)")
# The placeholders of an alerts.yaml message; each becomes a Prometheus template (VALUE_TEMPLATES for a value).
_PLACEHOLDER = re.compile(r"\{(?P<field>subject|value|threshold)(?::(?P<spec>[^}]*))?\}")
_PROMQL_WORDS = set("and or unless bool offset by without on ignoring group_left group_right inf nan".split())
_TIMER_SUFFIXES = ("_sum", "_count", "_bucket")


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
            assert spec in VALUE_TEMPLATES, f"no Prometheus template for {{value:{spec}}}: add one"
            return VALUE_TEMPLATES[spec]
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
    """(names, timer names) statsd-exporter makes of the StatsD names Airflow sends: deploy/statsd/
    airflow_statsd_names.txt through the mappings, as test_statsd_mappings.py checks them (dropped ones make
    nothing). Timers are summaries or histograms: their _sum/_count(/_bucket) series exist, not only the name."""
    mappings = statsd_mapper.load(STATSD_MAPPINGS)
    metrics = [
        (statsd_mapper.map_name(mappings, s.stat, s.kind), s.kind) for s in statsd_mapper.sent_names(STATSD_NAMES)
    ]
    exported = [(metric.name, kind) for metric, kind in metrics if not metric.dropped]
    return {name for name, _ in exported}, {name for name, kind in exported if kind == "timer"}


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
