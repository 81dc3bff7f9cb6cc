"""statsd-exporter's mapping of a StatsD name to a Prometheus metric, in Python, for deploy/statsd/mappings.yml.

No statsd_exporter binary is installable here (not on PyPI, not in Debian's archive), so its rules are reproduced
from its pkg/mapper (mapper.go, fsm/, escape.go): a mapping file is checked as the exporter checks it at start
(glob patterns of whole `*` or name components, metric and label names); a name is tried against the glob rules
first, the first in file order winning, where `*` is one non-empty dot-free component; then against the regex rules
in order, unanchored (Go's FindStringSubmatchIndex); `$1` / `${1}` in a glob rule's name and labels is a capture, in
a regex rule Go's Regexp.Expand (`$name` as long as possible: `$1x` is group "1x", empty); `action: drop` exports
nothing; no rule matched, the name is escaped (every character but [a-zA-Z0-9_] becomes `_`) with no labels. A
timer becomes a summary (its _sum and _count series), a counter and a gauge one series of the name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

# mapper.go's validation of a mapping file.
_STATSD_NAME = r"[a-zA-Z_](-?[a-zA-Z0-9_])*"
_TEMPLATE = r"(\$\{?\d+\}?)"
_GLOB_LINE = re.compile(rf"^(\*\.|{_STATSD_NAME}\.)+(\*|{_STATSD_NAME})$")
_METRIC_NAME = re.compile(rf"^([a-zA-Z_]|{_TEMPLATE})([a-zA-Z0-9_]|{_TEMPLATE})*$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]+$")
TYPES = ("counter", "gauge", "timer")


@dataclass(frozen=True)
class Metric:
    """What the exporter makes of one StatsD name."""

    name: str
    labels: tuple[tuple[str, str], ...]
    rule: int | None  # index of the mapping that matched; None: the exporter's default name
    dropped: bool = False  # matched an `action: drop` rule: nothing exported


def load(path: Path) -> list[dict]:
    """The mappings of a file, checked as statsd-exporter checks them when it starts (it refuses the file else)."""
    mappings = yaml.safe_load(path.read_text())["mappings"]
    for i, m in enumerate(mappings):
        assert m.get("name"), f"mapping {i} ({m.get('match')}) sets no metric name"
        assert _METRIC_NAME.match(m["name"]), f"mapping {i}: invalid metric name {m['name']!r}"
        assert all(_LABEL_NAME.match(k) for k in m.get("labels", {})), f"mapping {i}: invalid label key"
        assert m.get("action", "map") in ("map", "drop"), f"mapping {i}: unknown action {m['action']}"
        if m.get("match_type", "glob") == "glob":
            assert _GLOB_LINE.match(m["match"]), f"mapping {i}: invalid glob {m['match']!r}"
        else:
            assert m["match_type"] == "regex", f"mapping {i}: unknown match_type {m['match_type']}"
            re.compile(m["match"])
    return mappings


@cache
def _glob_regex(pattern: str) -> re.Pattern:
    return re.compile(r"\.".join("([^.]+)" if part == "*" else re.escape(part) for part in pattern.split(".")))


def _glob_format(template: str, captures: tuple[str, ...]) -> str:
    def sub(m: re.Match) -> str:
        index = int(m[1] or m[2]) - 1
        return captures[index] if 0 <= index < len(captures) else ""

    return re.sub(r"\$\{(\d+)\}|\$(\d+)", sub, template)


def _go_expand(template: str, match: re.Match) -> str:
    def sub(m: re.Match) -> str:
        group = m[1] or m[2]
        try:
            return match.group(int(group) if group.isdigit() else group) or ""
        except IndexError:  # no such group: Go expands it to nothing
            return ""

    return re.sub(r"\$\{(\w+)\}|\$(\w+)", sub, template)


def escape(name: str) -> str:
    """escape.go: the default metric name of an unmapped StatsD name."""
    escaped = re.sub(r"[^a-zA-Z0-9_]", "_", name)
    return "_" + escaped if escaped[:1].isdigit() else escaped


def map_name(mappings: list[dict], stat: str, kind: str) -> Metric:
    """The metric a StatsD name of a type (counter, gauge, timer) is exported as."""
    assert kind in TYPES, kind
    globs = [(i, m) for i, m in enumerate(mappings) if m.get("match_type", "glob") == "glob"]
    regexes = [(i, m) for i, m in enumerate(mappings) if m.get("match_type", "glob") == "regex"]
    for i, m in globs:
        found = _glob_regex(m["match"]).fullmatch(stat)
        if found and m.get("match_metric_type", kind) in (kind, "observer" if kind == "timer" else kind):
            name = _glob_format(m["name"], found.groups())
            labels = {k: _glob_format(v, found.groups()) for k, v in m.get("labels", {}).items()}
            return Metric(name, tuple(sorted(labels.items())), i, m.get("action") == "drop")
    for i, m in regexes:
        found = re.search(m["match"], stat)
        if found and m.get("match_metric_type", kind) in (kind, "observer" if kind == "timer" else kind):
            labels = {k: _go_expand(v, found) for k, v in m.get("labels", {}).items()}
            name = _go_expand(m["name"], found)
            return Metric(name, tuple(sorted(labels.items())), i, m.get("action") == "drop")
    return Metric(escape(stat), (), None)


def series_names(name: str, kind: str) -> tuple[str, ...]:
    """The Prometheus series names a metric of a type occupies (a summary's _sum and _count besides its own)."""
    return (name, name + "_sum", name + "_count") if kind == "timer" else (name,)


# A value for each part Airflow puts in a name, as it would send it (a file's dots as `__`), each distinct enough
# that finding it in a metric name means a dag, task, file... became a metric of its own.
SAMPLE_VALUES = {
    "dag_id": "game_analytics_daily",
    "task_id": "build_user_daily_metrics",
    "state": "success",
    "queue": "default",
    "pool_name": "default_pool",
    "executor_class_name": "LocalExecutor",
    "operator_name": "PythonOperator",
    "task_type": "SQLExecuteQueryOperator",
    "file_name": "daily_dag__py",
    "bundle_name": "dags-folder",
    "hostname": "triggerer-host-1",
    "job_name": "schedulerjobrunner",
}
_PART = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Sent:
    """One line of deploy/statsd/airflow_statsd_names.txt, as Airflow would send it."""

    stat: str  # the StatsD name on the wire, prefix included
    kind: str
    template: str  # the line's name, {part} for each value Airflow puts in it
    parts: tuple[tuple[str, str], ...]  # (part, sample value)


def sent_names(names_file: Path, prefix: str = "airflow") -> list[Sent]:
    """Each name of the list with a sample value for each of its parts."""
    sent = []
    for line in names_file.read_text().splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        kind, template = line.split()
        parts = _PART.findall(template)
        missing = [p for p in parts if p not in SAMPLE_VALUES]
        assert not missing, f"{template}: add a sample value for {missing} to SAMPLE_VALUES"
        name = _PART.sub(lambda m: SAMPLE_VALUES[m[1]], template)
        sent.append(Sent(f"{prefix}.{name}", kind, template, tuple((p, SAMPLE_VALUES[p]) for p in parts)))
    return sent
