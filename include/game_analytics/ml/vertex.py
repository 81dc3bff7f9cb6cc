"""The Vertex AI training's row in the model history: read what the pipeline job reports, record it like a local one.

The pipeline (``GA_VERTEX_PIPELINE_TEMPLATE``, not in this repository) trains and registers the model in the Vertex
AI Model Registry. What this module expects of its finished job (``PipelineJob.to_dict()``, what
``RunPipelineJobOperator`` returns): a ``google.VertexModel`` output artifact (the registered model, as the
``ModelUploadOp`` of google-cloud-pipeline-components writes it: ``metadata.resourceName``) and a ``system.Metrics``
output artifact whose metadata holds ``mae`` (required), and ``r2``, ``rows``, ``days``, ``held_out_days`` (a list
or comma-separated days) when it reports them. The model's registry version is read from the Model Registry (the
task passes the reader: the Vertex AI hook).

The decision is ``registry.decide`` on the reported MAE against the current model's recorded one: the pipeline
scores only its own model, so the two are not on the same rows, and the reason says so. A job whose metrics or
model cannot be read is recorded all the same, with NULL metrics and a reason that says what could not be read,
and is not promoted. No predictions are written on this path (the model is served by Vertex AI, not loaded here).
No Airflow import.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from game_analytics.config import Settings
from game_analytics.ml.registry import (
    Decision,
    as_xcom,
    current_model,
    days_text,
    decide,
    error_text,
    record,
    run_row,
)

MODEL_ARTIFACT = "google.VertexModel"
METRICS_ARTIFACT = "system.Metrics"


def output_artifacts(job: dict, schema_title: str) -> list[dict]:
    """The output artifacts of every task of the pipeline job ``job`` whose schema is ``schema_title``."""
    found = []
    for task in (job.get("jobDetail") or {}).get("taskDetails") or []:
        for output in (task.get("outputs") or {}).values():
            found.extend(a for a in output.get("artifacts") or [] if a.get("schemaTitle") == schema_title)
    return found


def _one(job: dict, schema_title: str) -> dict:
    artifacts = output_artifacts(job, schema_title)
    if len(artifacts) != 1:
        raise ValueError(f"the pipeline job {job.get('name')} has {len(artifacts)} {schema_title} output artifacts")
    return artifacts[0]


def reported_metrics(job: dict) -> dict:
    """The metrics the pipeline reports (see the module docstring); an error naming what is missing or wrong."""
    metadata = _one(job, METRICS_ARTIFACT).get("metadata") or {}
    if not isinstance(metadata.get("mae"), int | float):
        raise ValueError(f"the {METRICS_ARTIFACT} artifact has no numeric mae: {sorted(metadata)}")
    days = metadata.get("held_out_days") or []
    days = days.split(",") if isinstance(days, str) else [str(d) for d in days]

    def number(key: str, kind: type) -> float | int | None:
        value = metadata.get(key)
        return kind(value) if isinstance(value, int | float) else None

    return {
        "mae": float(metadata["mae"]),
        "r2": number("r2", float),
        "rows": number("rows", int),
        "days": number("days", int),
        "held_out_days": sorted(d.strip() for d in days if d.strip()),
    }


def registered_model(job: dict) -> str:
    """The resource name of the model the pipeline registered (``projects/../models/<id>``, maybe ``@<version>``)."""
    artifact = _one(job, MODEL_ARTIFACT)
    name = (artifact.get("metadata") or {}).get("resourceName")
    if not name:
        raise ValueError(f"the {MODEL_ARTIFACT} artifact has no metadata.resourceName: {artifact.get('uri')}")
    return name


def register_vertex_training(
    client,
    settings: Settings,
    training_date: date,
    model_id: str,
    job: dict,
    get_model: Callable[[str], object],
    trained_at: datetime,
) -> dict:
    """Record the pipeline job's training in model_runs (``get_model(resource_name)`` reads the Model Registry and
    returns a ``Model``: ``name``, ``version_id``, ``artifact_uri``); returns the recorded row (the task's XCom)."""
    unreadable, values = [], {}
    try:
        model = get_model(registered_model(job))
        values["registry_version"] = f"{model.name}@{model.version_id}"
        values["model_uri"] = model.artifact_uri or None
    except Exception as exc:  # noqa: BLE001 - recorded, not promoted, with what failed
        unreadable.append(f"the registered model could not be read ({error_text(exc)})")
    try:
        metrics = reported_metrics(job)
    except Exception as exc:  # noqa: BLE001 - as above
        unreadable.append(f"the pipeline's metrics could not be read ({error_text(exc)})")
    else:
        values.update(metrics, held_out_days=",".join(metrics["held_out_days"]) or None)
    current = current_model(client, settings, training_date, model_id)
    if unreadable:
        stays = f"{current['model_id']} stays current" if current else "no model is current"
        decision = Decision(False, f"not promoted: {'; '.join(unreadable)}; {stays}", current and current["model_id"])
    else:
        days = metrics["held_out_days"]
        held = f"its held-out days ({days_text(days)})" if days else "held-out rows it does not name"
        error = None if current is None or current["mae"] is not None else "its MAE is not recorded"
        decision = decide(metrics["mae"], held, current, current and current["mae"], error, same_rows=False)
    row = run_row(model_id, training_date, trained_at, decision, **values)
    record(client, settings, row, [])
    return as_xcom(row)
