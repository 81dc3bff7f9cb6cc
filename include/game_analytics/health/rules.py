"""The alert rules, read from ``alerts.yaml`` (package data) and checked before anything is evaluated.

Rules are data so that a deployment changes a threshold by configuration (``GA_ALERT_<RULE>_THRESHOLD``) and the
Prometheus rules of ``deploy/`` can be compared with them by a test. Loading fails loudly, naming the rule and the
key, rather than silently skipping a rule nobody would then be told about. No Airflow import, no I/O but the file.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from game_analytics.config import Settings
from game_analytics.health.metrics import METRICS

RULES_FILE = Path(__file__).with_name("alerts.yaml")
SEVERITIES = ("critical", "high", "warning")
_KEYS = ("metric", "threshold", "severity", "summary", "message")
# Where the plugin mounts the health page in the Airflow api-server (plugins/game_analytics_plugin.py)
HEALTH_PAGE_PATH = "/pipeline-health"
RUNBOOKS_PATH = f"{HEALTH_PAGE_PATH}/runbooks"


@dataclass(frozen=True)
class Rule:
    """One alert rule: it fires for a subject while the subject's latest ``metric`` value is > ``threshold``."""

    name: str
    metric: str
    threshold: float
    severity: str
    summary: str
    message: str  # a str.format template with {subject}, {value} and {threshold}

    def fires(self, value: float) -> bool:
        return value > self.threshold

    def render(self, subject: str, value: float) -> str:
        """The rule's message for one subject and value."""
        return self.message.format(subject=subject, value=value, threshold=self.threshold)

    def runbook_url(self, settings: Settings) -> str:
        """The rule's section of docs/runbooks.md, as served by the health page."""
        return f"{settings.airflow_base_url.rstrip('/')}{RUNBOOKS_PATH}#{self.name}"


def threshold_variable(rule_name: str) -> str:
    """The environment variable that overrides a rule's threshold: GA_ALERT_<RULE>_THRESHOLD."""
    return f"GA_ALERT_{rule_name.upper()}_THRESHOLD"


class RuleError(ValueError):
    """A rule of alerts.yaml that breaks the rules; the message names the file, the rule and the key."""


def _rule(name: str, spec: object, where: Path, env: Mapping[str, str]) -> Rule:
    if not isinstance(spec, dict):
        raise RuleError(f"{where}: rule {name!r} must be a mapping of {', '.join(_KEYS)}")
    unknown = sorted(set(spec) - set(_KEYS))
    missing = [key for key in _KEYS if key not in spec]
    if unknown or missing:
        raise RuleError(f"{where}: rule {name!r}: unknown key(s) {unknown}, missing key(s) {missing}")
    if spec["metric"] not in METRICS:
        raise RuleError(f"{where}: rule {name!r}: metric {spec['metric']!r} is not one of {', '.join(METRICS)}")
    if spec["severity"] not in SEVERITIES:
        raise RuleError(f"{where}: rule {name!r}: severity {spec['severity']!r} is not one of {', '.join(SEVERITIES)}")
    if isinstance(spec["threshold"], bool) or not isinstance(spec["threshold"], int | float):
        raise RuleError(f"{where}: rule {name!r}: threshold {spec['threshold']!r} is not a number")
    threshold = float(spec["threshold"])
    variable = threshold_variable(name)
    raw = env.get(variable)
    if raw is not None:
        try:
            threshold = float(raw)
        except ValueError as exc:
            raise ValueError(f"{variable}={raw!r} is not a valid float") from exc
    rule = Rule(name, spec["metric"], threshold, spec["severity"], str(spec["summary"]), str(spec["message"]))
    try:
        rule.render("subject", 1.0)
    except (KeyError, IndexError, ValueError) as exc:
        raise RuleError(f"{where}: rule {name!r}: message {rule.message!r} does not render: {exc!r}") from exc
    return rule


def load_rules(
    settings: Settings | None = None, environ: Mapping[str, str] | None = None, path: Path = RULES_FILE
) -> list[Rule]:
    """The rules of ``alerts.yaml`` with the environment's threshold overrides applied, in file order.

    ``settings`` is accepted so callers pass what they have (no rule reads it today: the thresholds' overrides are
    per-rule variables, not Settings fields); ``environ`` defaults to ``os.environ``.
    """
    del settings  # part of the interface; the rules read nothing from it
    env = os.environ if environ is None else environ
    try:
        document = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise RuleError(f"{path}: not valid YAML: {exc}") from exc
    if set(document) != {"rules"} or not isinstance(document["rules"], dict) or not document["rules"]:
        raise RuleError(f"{path}: the file must hold one key, rules: a mapping of rule name to rule")
    return [_rule(str(name), spec, path, env) for name, spec in document["rules"].items()]


def rules_by_name(settings: Settings | None = None, environ: Mapping[str, str] | None = None) -> dict[str, Rule]:
    return {rule.name: rule for rule in load_rules(settings, environ)}
