"""DAG integrity and policy over the whole DagBag: what CI must catch before a DAG reaches the scheduler.

Airflow only *logs* a missing `.sql` template or an undefined variable; here rendering every templated field for a
sample date turns those into failures.
"""

from __future__ import annotations

import ast
import copy
import functools
import json
import subprocess
import sys

import pendulum
import pytest

from tests.conftest import DAGS_DIR

DAG_FILES = sorted(p for p in DAGS_DIR.glob("*.py") if not p.name.startswith("_"))
# Modules whose import at parse would cost seconds on every parse loop (or pull ML into the scheduler).
FORBIDDEN_AT_PARSE = (
    "sklearn",
    "vertexai",
    "google.cloud.aiplatform",
    "airflow.providers.google.cloud.operators.vertex_ai",
)
# Heavy third-party packages (each costs ~0.2-1.5 s to import) that a parse must find already imported.
HEAVY_AT_PARSE = (
    "google", "grpc", "pandas", "numpy", "pyarrow", "duckdb", "confluent_kafka", "airflow.providers.google",
)  # fmt: skip
SAMPLE_DAY = pendulum.datetime(2026, 11, 2, tz="UTC")


def test_no_import_errors(dagbag):
    assert not dagbag.import_errors, "\n".join(f"{k}: {v}" for k, v in dagbag.import_errors.items())
    assert dagbag.size() >= 1 and len(dagbag.dags) >= len(DAG_FILES)


def test_dag_policy(dagbag):
    problems = []
    for dag_id, dag in dagbag.dags.items():
        if not dag.doc_md or len(dag.doc_md.strip()) < 40:
            problems.append(f"{dag_id}: doc_md missing or too short")
        if not dag.tags:
            problems.append(f"{dag_id}: no tags")
        if dag.max_active_runs is None:
            problems.append(f"{dag_id}: no max_active_runs")
        if dag.start_date is None:
            problems.append(f"{dag_id}: no start_date")
        for task in dag.tasks:
            if not task.owner or task.owner == "airflow":
                problems.append(f"{dag_id}.{task.task_id}: owner not set")
            if task.retries < 1 or not task.retry_delay:
                problems.append(f"{dag_id}.{task.task_id}: retries >= 1 with a retry_delay required")
    assert not problems, "\n".join(problems)


def test_every_dag_notifies_its_failures_and_records_its_outcomes(dagbag):
    """One notifier for every DAG's failure; the outcomes feed the health page and the alerts (a good run resolves
    the failure's alert)."""
    from game_analytics.health.dag_callbacks import DagFailureNotifier, record_failure, record_success

    def callbacks(value):
        return value if isinstance(value, list) else [value] if value else []

    for dag_id, dag in dagbag.dags.items():
        on_failure = callbacks(dag.on_failure_callback)
        assert any(isinstance(c, DagFailureNotifier) for c in on_failure), f"{dag_id}: failures not notified"
        assert on_failure.index(record_failure) < len(on_failure) - 1, f"{dag_id}: failure notified before recorded"
        assert callbacks(dag.on_success_callback) == [record_success], f"{dag_id}: successes not recorded"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_dag_constructor_is_explicit(path):
    """catchup, max_active_runs and a static start_date are written out, never left to configuration."""
    tree = ast.parse(path.read_text())
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", "") in ("DAG", "dag")]
    assert calls, f"{path.name} defines no DAG(...) / @dag(...)"
    for call in calls:
        keywords = {k.arg: k.value for k in call.keywords}
        for required in ("catchup", "max_active_runs", "start_date", "schedule"):
            assert required in keywords, f"{path.name}: DAG(...) must set {required}= explicitly"
        start = ast.unparse(keywords["start_date"])
        assert "now" not in start and "days_ago" not in start, f"{path.name}: start_date must be static: {start}"


def test_start_date_is_static(dagbag):
    from airflow.dag_processing.dagbag import DagBag

    again = DagBag(dag_folder=str(DAGS_DIR))
    for dag_id, dag in dagbag.dags.items():
        assert again.dags[dag_id].start_date == dag.start_date, f"{dag_id}: start_date moves between parses"


def _context(dag, task):
    from airflow.sdk.execution_time import macros

    day = SAMPLE_DAY
    return {
        "ds": day.to_date_string(), "ds_nodash": day.format("YYYYMMDD"), "ts": day.isoformat(),
        "logical_date": day, "data_interval_start": day, "data_interval_end": day.add(days=1),
        "params": {**{k: dag.params[k] for k in dag.params}, **dict(task.params)},
        "macros": macros, "dag": dag, "task": task, "run_id": "integrity", "var": {}, "conn": None,
    }  # fmt: skip


def test_every_templated_field_renders(dagbag):
    """A missing .sql file or an undefined variable raises here (TemplateNotFound / UndefinedError)."""
    rendered = 0
    for dag in dagbag.dags.values():
        env = dag.get_template_env()
        for original in dag.tasks:
            if original.is_mapped:  # the ingestion's shards: Python arguments, no template; mapping needs a real run
                continue
            task = copy.copy(original)
            task.render_template_fields(_context(dag, task), jinja_env=env)
            for name in task.template_fields:
                value = json.dumps(getattr(task, name), default=str)
                assert "{{" not in value and "{%" not in value, f"{dag.dag_id}.{task.task_id}.{name} left Jinja"
                rendered += ".sql" not in value
    assert rendered


@functools.cache
def _parse_in_a_fresh_interpreter(path) -> tuple[list[str], list[str]]:
    """Parse the DAG file as the dag-processor does, in a fresh interpreter: first the airflow modules the file
    names (``parsing_pre_import_modules``, on by default: the processor imports them once, before it forks a parser),
    then the file. (the modules pre-imported, the modules the parse itself added)."""
    probe = (
        "import importlib, importlib.util, json, sys\n"
        "from airflow.utils.file import iter_airflow_imports\n"
        f"for name in iter_airflow_imports({str(path)!r}):\n"
        "    importlib.import_module(name)\n"
        "before = set(sys.modules)\n"
        f"spec = importlib.util.spec_from_file_location('dag_under_test', {str(path)!r})\n"
        "spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "print(json.dumps([sorted(before), sorted(set(sys.modules) - before)]))\n"
    )
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    pre_imported, parsed = json.loads(out.strip().splitlines()[-1])
    return pre_imported, parsed


def _under(modules: list[str], packages: tuple[str, ...]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in packages)]


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_parse_imports_no_ml_modules(path):
    """What parsing the DAG file pulls into sys.modules, pre-imports included."""
    bad = _under([m for modules in _parse_in_a_fresh_interpreter(path) for m in modules], FORBIDDEN_AT_PARSE)
    assert not bad, f"{path.name} imports at parse: {bad[:10]}"


@pytest.mark.parametrize("path", DAG_FILES, ids=lambda p: p.name)
def test_each_parse_imports_nothing_heavy_the_dag_processor_could_have_pre_imported(path):
    """The dag-processor re-parses each file every 30 s in a fresh fork: a heavy module first imported by the
    parse is paid every time (the daily DAG's parse took 3.7 s of CPU, 0.35 s once the BigQuery operator and the
    bigquery:// and gs:// asset URI handlers were named in the file). Fails when a DAG stops naming such a module,
    or reaches a new one through our code: name it in the DAG file (an ``airflow.*`` module that imports it)."""
    _, parsed = _parse_in_a_fresh_interpreter(path)
    heavy = _under(parsed, HEAVY_AT_PARSE)
    assert not heavy, f"parsing {path.name} imports, every time: {heavy[:10]}"


def test_every_try_of_a_task_runs_its_job_again(dagbag):
    """A retry, a cleared task or a reprocessing backfill recomputes: no resumable operator may return the
    earlier try's finished job (Airflow 3.3's ResumableJobMixin does, with durable=True, its default), and no
    BigQuery job may reuse a job id derived from its configuration (force_rerun=False reattaches to it)."""
    from airflow.providers.google.cloud.operators.bigquery import BigQueryInsertJobOperator
    from airflow.sdk.bases.resumablejobmixin import ResumableJobMixin

    resumable = [(dag.dag_id, t) for dag in dagbag.dags.values() for t in dag.tasks if isinstance(t, ResumableJobMixin)]
    assert resumable, "the daily DAG's table tasks are resumable BigQuery jobs; the check found none"
    resumed = [f"{d}.{t.task_id}" for d, t in resumable if t.durable]
    assert not resumed, f"these tasks would skip their job on a later try: {resumed}"
    reattached = [
        f"{d}.{t.task_id}" for d, t in resumable if isinstance(t, BigQueryInsertJobOperator) and not t.force_rerun
    ]
    assert not reattached, f"these BigQuery jobs reuse a job id on a later try: {reattached}"
