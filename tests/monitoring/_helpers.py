"""What the monitoring tests share: the files of deploy/ and alerts.yaml they compare, how they read them, and the
skip markers for the Prometheus binaries (a test that needs promtool or prometheus skips where Debian's
`prometheus` package is absent, and fails instead where GA_REQUIRE_PROMETHEUS=1, as in CI).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
import yaml

from game_analytics.localstack.environment import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
RULES_FILE = DEPLOY / "prometheus" / "alerts.rules.yml"
PROMETHEUS_CONFIG = DEPLOY / "prometheus" / "prometheus.yml"
STATSD_MAPPINGS = DEPLOY / "statsd" / "mappings.yml"
DASHBOARD = DEPLOY / "grafana" / "dashboards" / "pipeline_health.json"
ALERTS_YAML = REPO_ROOT / "include" / "game_analytics" / "health" / "alerts.yaml"

# The Prometheus template each `{value:<spec>}` of an alerts.yaml message becomes (see the rules file).
VALUE_TEMPLATES = {".0f": '{{ printf "%.0f" $value }}', ".2%": "{{ humanizePercentage $value }}"}
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
