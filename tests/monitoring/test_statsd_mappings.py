"""Every StatsD name Airflow 3.3 sends becomes one Prometheus metric with one label set, or is dropped on purpose.

The names are deploy/statsd/airflow_statsd_names.txt, generated from the installed Airflow's source and metrics
registry by scripts/airflow_statsd_names.py (the first test fails when it is stale); each is sent, with a value for
each of its dag / task / file / pool ... parts, through deploy/statsd/mappings.yml by statsd_mapper.py (statsd-
exporter's matching, reproduced: its binary cannot be installed here). Anything else shows in production only as
what the issue found: a per-file metric name for every DAG file (dag_processing.last_duration.<bundle>.<file> left
unmapped) or a metric the exporter refuses half of (airflow.operator_failures with and without its operator label).
"""

from __future__ import annotations

import importlib.util

from game_analytics.localstack.environment import REPO_ROOT
from tests.monitoring import statsd_mapper
from tests.monitoring._helpers import STATSD_MAPPINGS, STATSD_NAMES, load_yaml
from tests.test_docker_compose import AIRFLOW

NAMES_FILE = STATSD_NAMES


def _generator():
    spec = importlib.util.spec_from_file_location("airflow_statsd_names", REPO_ROOT / "scripts/airflow_statsd_names.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _legacy_twins() -> dict[str, str]:
    """Airflow's registry: new name -> its legacy name (the one carrying dag_id, task_id... in the name)."""
    root = _generator().airflow_root()
    registry = load_yaml(root / "_shared/observability/metrics/metrics_template.yaml")["metrics"]
    return {m["name"]: m["legacy_name"] for m in registry if m.get("legacy_name", "-") != "-"}


def problems(mappings: list[dict], sent: list[statsd_mapper.Sent], twins: dict[str, str]) -> list[str]:
    """Every way the mappings fail the names Airflow sends (empty: each is one consistent metric or dropped)."""
    found: list[str] = []
    exported = {s.template: statsd_mapper.map_name(mappings, s.stat, s.kind) for s in sent}
    shapes: dict[str, set] = {}
    for s in sent:
        metric = exported[s.template]
        if metric.dropped:
            # Dropped on purpose only where the legacy twin carries the same count with its labels.
            twin = twins.get(s.template)
            if twin is None or twin not in exported:
                found.append(f"{s.stat}: dropped, and Airflow sends it under no other name")
            elif exported[twin].dropped:
                found.append(f"{s.stat}: dropped, and so is its legacy name {twin}")
            continue
        label_values = {value for _, value in metric.labels}
        for part, value in s.parts:
            if statsd_mapper.escape(value) in metric.name:
                found.append(f"{s.stat}: its {part} is in the metric name {metric.name} (one metric per value)")
            elif value not in label_values:
                found.append(f"{s.stat}: its {part} is in no label of {metric.name}{dict(metric.labels)}")
        shapes.setdefault(metric.name, set()).add((s.kind, tuple(k for k, _ in metric.labels)))
    for name, shape in sorted(shapes.items()):
        if len(shape) > 1:
            found.append(f"{name}: {len(shape)} label sets or types {sorted(shape)}")
    owners: dict[str, set] = {}
    for name, shape in shapes.items():
        for kind, _ in shape:
            for series in statsd_mapper.series_names(name, kind):
                owners.setdefault(series, set()).add(name)
    found += [f"{series}: a series of {sorted(names)}" for series, names in sorted(owners.items()) if len(names) > 1]
    applied = {metric.rule for metric in exported.values()}
    found += [
        f"mapping {i} ({m['match']}) applies to no name Airflow sends"
        for i, m in enumerate(mappings)
        if i not in applied
    ]
    return found


def test_the_list_of_names_is_what_the_installed_airflow_sends():
    generator = _generator()
    assert NAMES_FILE.read_text() == generator.render(generator.airflow_root()), (
        "deploy/statsd/airflow_statsd_names.txt is stale: run .venv/bin/python scripts/airflow_statsd_names.py and "
        "map or drop the new names in deploy/statsd/mappings.yml"
    )


def test_every_name_airflow_sends_is_one_consistent_metric_or_dropped():
    sent = statsd_mapper.sent_names(NAMES_FILE)
    assert len(sent) > 100
    assert problems(statsd_mapper.load(STATSD_MAPPINGS), sent, _legacy_twins()) == []
    mapped = {s.template: statsd_mapper.map_name(statsd_mapper.load(STATSD_MAPPINGS), s.stat, s.kind) for s in sent}
    # The two cases, and the names the dashboard reads.
    assert mapped["dag_processing.last_duration.{bundle_name}.{file_name}"] == statsd_mapper.Metric(
        "airflow_dag_processing_last_duration",
        (("bundle", "dags-folder"), ("dag_file", "daily_dag__py")),
        mapped["dag_processing.last_duration.{bundle_name}.{file_name}"].rule,
    )
    assert mapped["operator_failures"].dropped
    assert mapped["operator_failures_{operator_name}"].labels == (("operator", "PythonOperator"),)
    assert mapped["dagrun.duration.failed.{dag_id}"].name == "airflow_dagrun_failed"
    assert mapped["ti_failures"] == statsd_mapper.Metric("airflow_ti_failures", (), None)


def test_the_check_finds_what_the_airflow_2_mappings_get_wrong():
    """The Helm chart's Airflow 2 rules for these names, as this file had them."""
    chart = [
        {
            "match": "airflow.operator_failures_(.*)",
            "match_type": "regex",
            "name": "airflow_operator_failures",
            "labels": {"operator": "$1"},
        },
        {
            "match": "airflow.dag_processing.last_runtime.*",
            "name": "airflow_dag_processing_last_runtime",
            "labels": {"dag_file": "$1"},
        },
    ]
    sent = [
        s
        for s in statsd_mapper.sent_names(NAMES_FILE)
        if s.template.startswith(("operator_failures", "dag_processing.last_duration"))
    ]
    found = problems(chart, sent, _legacy_twins())
    assert "airflow_operator_failures: 2 label sets or types [('counter', ()), ('counter', ('operator',))]" in found
    assert any(
        f.startswith(
            "airflow.dag_processing.last_duration.dags-folder.daily_dag__py: its bundle_name is in the metric name"
        )
        for f in found
    )
    assert "mapping 1 (airflow.dag_processing.last_runtime.*) applies to no name Airflow sends" in found
    # A drop is deliberate only where the labelled twin is exported.
    drop_both = [
        {"match": m, "name": "dropped", "action": "drop"}
        for m in ("airflow.operator_failures", "^airflow\\.operator_failures_")
    ]
    drop_both[1]["match_type"] = "regex"
    assert (
        "airflow.operator_failures: dropped, and so is its legacy name operator_failures_{operator_name}"
        in problems(drop_both, [s for s in sent if s.template.startswith("operator_failures")], _legacy_twins())
    )


def test_the_matching_is_statsd_exporters():
    rules = [
        {"match": "^airflow\\.(\\w+)_x$", "match_type": "regex", "name": "regex_${1}", "labels": {"a": "$1x"}},
        {"match": "airflow.*.x", "name": "first_$1", "labels": {"v": "${1}"}},
        {"match": "airflow.a.*", "name": "second"},
        {"match": "airflow.a.gone", "name": "dropped", "action": "drop"},
    ]
    mapper = statsd_mapper
    # Glob before regex whatever the order; the first glob in file order wins; `*` is one whole component.
    assert mapper.map_name(rules, "airflow.a.x", "counter") == mapper.Metric("first_a", (("v", "a"),), 1)
    assert mapper.map_name(rules, "airflow.a.gone", "gauge") == mapper.Metric("second", (), 2)
    assert mapper.map_name(rules[3:], "airflow.a.gone", "gauge").dropped
    assert mapper.map_name(rules, "airflow.a.b.x", "counter") == mapper.Metric("airflow_a_b_x", (), None)
    # Go's Expand: `$1x` names group "1x", which does not exist.
    assert mapper.map_name(rules, "airflow.job_x", "counter") == mapper.Metric("regex_job", (("a", ""),), 0)
    assert mapper.map_name([], "airflow.dagrun.dependency-check", "timer").name == "airflow_dagrun_dependency_check"
    assert mapper.series_names("t", "timer") == ("t", "t_sum", "t_count")


def test_the_compose_stack_sends_the_legacy_names_the_mappings_label(services):
    """The new names are dropped for their labelled legacy twins: with legacy_names_on off nothing would be left."""
    for name in AIRFLOW:
        env = services[name]["environment"]
        assert str(env.get("AIRFLOW__METRICS__LEGACY_NAMES_ON", "True")).lower() == "true", name
