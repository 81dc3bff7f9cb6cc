"""Prometheus itself checks deploy/prometheus/ and runs each alert rule (`promtool check` and `promtool test rules`).

test_rules_agree.py compares the text of alerts.rules.yml with alerts.yaml; a rule can match it and still not load
or not fire (a bad template, `>=` for `>`). Where promtool is installed (Debian's `prometheus` package ships it),
Prometheus checks the rules and the config (with the container paths mapped to the files compose mounts there), and
`promtool test rules` runs each alert on a series at its threshold (must not fire) and above it (must fire once, with
the rule's labels and the annotations rendered): the agreement is then one of behaviour, not only of text.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import yaml

from game_analytics.health.metrics import METRICS, prometheus_name
from game_analytics.localstack.environment import REPO_ROOT
from tests.monitoring._helpers import (
    PROMETHEUS_CONFIG,
    RULES_FILE,
    VALUE_TEMPLATES,
    load_yaml,
    needs_promtool,
    prometheus_alerts,
    seed_rules,
)
from tests.test_docker_compose import COMPOSE_FILE


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
    text = text.replace(VALUE_TEMPLATES[".0f"], format(value, ".0f"))
    if VALUE_TEMPLATES[".2%"] in text:
        text = text.replace(VALUE_TEMPLATES[".2%"], humanize(value * 100) + "%")
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
