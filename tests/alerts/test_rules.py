"""alerts.yaml loads into validated rules; thresholds are overridden by GA_ALERT_<RULE>_THRESHOLD."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import yaml

from game_analytics.config import Settings
from game_analytics.health.metrics import METRICS
from game_analytics.health.rules import RULES_FILE, RuleError, load_rules, threshold_variable

REPO_DOCS = Path(__file__).resolve().parents[2] / "docs"
EXPECTED = {
    "high_kafka_lag": ("kafka_lag_messages", 100000, "critical"),
    "high_dlq_rate": ("dlq_rate", 0.01, "warning"),
    "ingestion_stalled": ("seconds_since_successful_ingestion", 1800, "critical"),
    "airflow_dag_failed": ("dag_run_failed", 0, "high"),
    "data_freshness": ("freshness_seconds", 3600, "critical"),
    "daily_metrics_late": ("daily_metrics_late_seconds", 21600, "high"),
    "check_failed": ("failed_checks", 0, "high"),
    "check_warned": ("warned_checks", 0, "warning"),
}


def test_the_shipped_rules_are_the_designed_ones():
    rules = load_rules(environ={})
    assert {r.name: (r.metric, r.threshold, r.severity) for r in rules} == EXPECTED
    assert all(r.metric in METRICS and r.summary for r in rules)


def test_a_threshold_is_overridden_by_its_variable_and_a_bad_one_names_it():
    assert threshold_variable("high_kafka_lag") == "GA_ALERT_HIGH_KAFKA_LAG_THRESHOLD"
    rules = {r.name: r for r in load_rules(environ={"GA_ALERT_HIGH_KAFKA_LAG_THRESHOLD": "500"})}
    assert rules["high_kafka_lag"].threshold == 500.0 and rules["high_dlq_rate"].threshold == 0.01
    with pytest.raises(ValueError, match="GA_ALERT_HIGH_DLQ_RATE_THRESHOLD='lots'"):
        load_rules(environ={"GA_ALERT_HIGH_DLQ_RATE_THRESHOLD": "lots"})


def test_messages_render_and_runbook_links_point_at_the_page():
    rules = {r.name: r for r in load_rules(environ={})}
    lag = rules["high_kafka_lag"]
    assert lag.render("3", 250000.0) == "partition 3 is 250000 messages behind (threshold 100000)"
    assert lag.fires(100001) and not lag.fires(100000)  # value > threshold, strictly
    settings = dataclasses.replace(Settings(), airflow_base_url="https://airflow.example.com/")
    assert lag.runbook_url(settings) == "https://airflow.example.com/pipeline-health/runbooks#high_kafka_lag"


def test_every_rule_has_a_runbook_section():
    sections = {line[3:].strip() for line in (REPO_DOCS / "runbooks.md").read_text().splitlines() if line[:3] == "## "}
    assert set(EXPECTED) <= sections


@pytest.mark.parametrize(
    "change, error",
    [
        ({"metric": "no_such_metric"}, "metric 'no_such_metric' is not one of"),
        ({"severity": "urgent"}, "severity 'urgent' is not one of"),
        ({"thresold": 1}, r"unknown key\(s\) \['thresold'\]"),
        ({"threshold": "high"}, "threshold 'high' is not a number"),
        ({"message": "lag {lag}"}, r"message 'lag \{lag\}' does not render"),
    ],
)
def test_a_broken_rule_is_refused_naming_it(tmp_path, change, error):
    document = yaml.safe_load(RULES_FILE.read_text())
    document["rules"]["high_kafka_lag"].update(change)
    path = tmp_path / "alerts.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(RuleError, match=f"rule 'high_kafka_lag': {error}"):
        load_rules(environ={}, path=path)


def test_a_missing_key_is_refused(tmp_path):
    document = yaml.safe_load(RULES_FILE.read_text())
    del document["rules"]["check_warned"]["severity"]
    path = tmp_path / "alerts.yaml"
    path.write_text(yaml.safe_dump(document))
    with pytest.raises(RuleError, match=r"missing key\(s\) \['severity'\]"):
        load_rules(environ={}, path=path)
