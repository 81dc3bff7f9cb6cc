"""The level-difficulty model's history and promotion: every training is kept, and a new model becomes the current
one only when it is not worse than the current one on the same held-out rows.

Each weekly training used to overwrite the last, so nobody could tell whether this week's model was better, or go
back to last week's. Now every training (one try of ``trigger_ml_training``) has a ``model_id``, its own model
folder, and a ``model_runs`` row with its metrics and the promotion decision in words. The current model is the
latest promoted row (``sql/model_runs/current.sql``); promoting a model also writes its predicted pass rate per
level (``level_predictions``), in the same transaction as its row (``sql/model_runs/record.sql``).

The decision: the new model and the current one are both scored (MAE of ``pass_rate``) on the new training's
held-out rows, which ``train_local.held_out_split`` finds again from the same features. The new model is promoted
when its MAE is not above the current one's, or when there is no current model, or when the current model cannot
be loaded or scored (then the reason says what failed). The current model may have been trained on some of those
rows (the windows overlap), which can only favour keeping it: a worse model is never promoted by this bias. The
Vertex AI path (``ml/vertex.py``) decides with the same function on the metrics its pipeline reports.

No Airflow import: the task passes a BigQuery client, the clock (``trained_at``) and the training's ids.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from game_analytics.config import Settings
from game_analytics.health.records import literal_rows, write_rows
from game_analytics.warehouse.client import query_rows
from game_analytics.warehouse.sql_templates import render_sql

log = logging.getLogger(__name__)

MODEL_NAME = "level-difficulty"
# How far back the current model is looked for (the bound on the model_runs partitions read): a model promoted more
# than a year before the training day is too old to stand in the way of a new one; the new one is then the first.
CURRENT_MODEL_HORIZON_DAYS = 365
_ERROR_CHARS = 300  # of an error's text in a decision


def new_model_id(training_date: date, run_id: str, try_number: int) -> str:
    """``level-difficulty-<D>-<8 hex>`` of one try of the training task: recording the same try again replaces its
    row; another try (a retry, a cleared task) or another run of the same day is another training, another id."""
    digest = hashlib.sha1(f"{run_id}/{try_number}".encode()).hexdigest()[:8]
    return f"{MODEL_NAME}-{training_date.isoformat()}-{digest}"


def model_folder_uri(settings: Settings, training_date: date, model_id: str) -> str:
    """Where a local training's ``model.joblib`` and ``metrics.json`` go: one folder per model, so no training
    of the same day overwrites another's model."""
    return f"{settings.model_uri(training_date.isoformat())}/{model_id}"


def days_text(days: list[str]) -> str:
    """Sorted ISO days, runs of consecutive days as ``first to last``: ``2026-11-01 to 2026-11-07, 2026-11-09``."""
    runs: list[list[date]] = []
    for day in sorted(date.fromisoformat(d) for d in days):
        if runs and (day - runs[-1][-1]).days == 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    return ", ".join(str(r[0]) if len(r) == 1 else f"{r[0]} to {r[-1]}" for r in runs) or "no days"


def error_text(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}"[:_ERROR_CHARS]


def _mae(value: float | None) -> str:
    return "unknown" if value is None else f"{value:.4g}"


@dataclass(frozen=True)
class Decision:
    promoted: bool
    reason: str
    compared_with: str | None = None
    current_mae: float | None = None


def decide(
    new_mae: float | None,
    held_out: str,
    current: dict | None,
    current_mae: float | None = None,
    current_error: str | None = None,
    same_rows: bool = True,
) -> Decision:
    """Promote when ``new_mae`` <= ``current_mae`` (on ``held_out``, the held-out rows in words), when there is no
    ``current`` model, or when it could not be scored (``current_error``); never when ``new_mae`` is unknown.
    ``same_rows=False``: the two MAEs were not computed on the same rows (Vertex AI), which the reason says."""
    if current is None:
        if new_mae is None:
            return Decision(False, "not promoted: the new model's MAE is unknown (and no model is current)")
        return Decision(
            True,
            f"promoted: no model was promoted in the {CURRENT_MODEL_HORIZON_DAYS} days up to this training, so "
            f"this first one is current (MAE {_mae(new_mae)} on {held_out})",
        )
    cid = current["model_id"]
    if new_mae is None:
        return Decision(False, f"not promoted: the new model's MAE is unknown; {cid} stays current", cid)
    if current_error is not None:
        return Decision(
            True,
            f"promoted: the current model {cid} could not be scored ({current_error}), so this one replaces it "
            f"(MAE {_mae(new_mae)} on {held_out}; {cid} had MAE {_mae(current.get('mae'))} on its own held-out days)",
            cid,
        )
    if same_rows:
        versus = f"of the current model {cid}, on the same {held_out}"
    else:
        own = days_text(current["held_out_days"].split(",")) if current.get("held_out_days") else "unknown days"
        versus = (
            f"recorded for the current model {cid} on its own held-out days ({own}); not the same rows: the "
            f"pipeline scores only its own model, on {held_out}"
        )
    if new_mae <= current_mae:
        return Decision(True, f"promoted: MAE {_mae(new_mae)} <= {_mae(current_mae)} {versus}", cid, current_mae)
    reason = f"not promoted: MAE {_mae(new_mae)} > {_mae(current_mae)} {versus}; {cid} stays current"
    return Decision(False, reason, cid, current_mae)


def current_model(client, settings: Settings, training_date: date, model_id: str) -> dict | None:
    """The model current on ``training_date`` other than ``model_id`` (a row of model_runs), or None."""
    sql = render_sql(
        "model_runs/current.sql",
        settings,
        ds=training_date.isoformat(),
        model_id=model_id,
        horizon_days=CURRENT_MODEL_HORIZON_DAYS,
    )
    rows = query_rows(client, sql)
    return rows[0] if rows else None


def record(client, settings: Settings, row: dict, predictions: list[dict]) -> None:
    """Replace ``row``'s model_runs row and level_predictions (of its model_id) in one transaction."""
    write_rows(
        client,
        settings,
        "model_runs/record.sql",
        "model_runs",
        [row],
        training_date=row["training_date"].isoformat(),
        model_id=row["model_id"],
        predictions=literal_rows(settings, "level_predictions", predictions),
    )
    log.info("model %s %s", row["model_id"], row["decision"])  # the decision starts: promoted / not promoted


def run_row(model_id: str, training_date: date, trained_at: datetime, decision: Decision, **values) -> dict:
    """A model_runs row: the ids, the decision, and ``values`` (rows, days, held_out_days, mae, r2, model_uri,
    registry_version; the missing ones NULL)."""
    metrics = ("rows", "days", "held_out_days", "mae", "r2", "model_uri", "registry_version")
    unknown = set(values) - set(metrics)
    if unknown:
        raise ValueError(f"not model_runs columns: {sorted(unknown)}")
    return {
        "model_id": model_id,
        "training_date": training_date,
        "trained_at": trained_at,
        **{name: values.get(name) for name in metrics},
        "compared_with": decision.compared_with,
        "current_mae": decision.current_mae,
        "promoted": decision.promoted,
        "decision": decision.reason,
    }


def as_xcom(row: dict) -> dict:
    """The recorded row as the task's XCom (JSON: dates and timestamps as text)."""
    return {k: v.isoformat() if isinstance(v, date | datetime) else v for k, v in row.items()}


# -- the local training ------------------------------------------------------------------------------------------


def _score(model, rows) -> float:
    """MAE of ``model`` on ``rows`` (the columns it was fitted on, when it knows them)."""
    from sklearn.metrics import mean_absolute_error

    from game_analytics.ml.train_local import TARGET, feature_matrix

    x = feature_matrix(rows)
    columns = list(getattr(model, "feature_names_in_", x.columns))
    return float(mean_absolute_error(rows[TARGET].astype(float), model.predict(x[columns])))


def _load(model_uri: str):
    import joblib

    from game_analytics.storage import local_path

    return joblib.load(local_path(model_uri) / "model.joblib")


def level_predictions(model, model_id: str, training_date: date, frame) -> list[dict]:
    """The model's predicted pass rate per level, from the features of the latest day of ``frame``."""
    from game_analytics.ml.train_local import feature_matrix

    latest = frame[frame["date"] == frame["date"].max()].sort_values("level_id")
    predicted = model.predict(feature_matrix(latest))
    return [
        {"model_id": model_id, "training_date": training_date, "level_id": int(level), "predicted_pass_rate": float(p)}
        for level, p in zip(latest["level_id"], predicted, strict=True)
    ]


def register_local_training(
    client,
    settings: Settings,
    training_date: date,
    model_id: str,
    metrics: dict,
    features_root: Path,
    trained_at: datetime,
) -> dict:
    """Score the model just trained (in ``model_folder_uri``, ``metrics`` from ``train_local.train``) and the
    current one on the same held-out rows, decide, record; returns the recorded row (the task's XCom)."""
    from game_analytics.ml.train_local import held_out_split, iso_days, load_features, training_rows

    uri = model_folder_uri(settings, training_date, model_id)
    frame = load_features(features_root, training_date, metrics["lookback_days"])
    _, held_out = held_out_split(training_rows(frame, features_root))
    held_out_days = iso_days(held_out["date"])
    held_text = f"{len(held_out)} held-out rows of {days_text(held_out_days)}"
    model = _load(uri)
    new_mae = _score(model, held_out)
    current = current_model(client, settings, training_date, model_id)
    current_mae, current_error = None, None
    if current is not None:
        try:
            current_mae = _score(_load(current["model_uri"] or ""), held_out)
        except Exception as exc:  # noqa: BLE001 - any failure to load or score it is reported in the decision
            current_error = f"from {current['model_uri']}: {error_text(exc)}"
    decision = decide(new_mae, held_text, current, current_mae, current_error)
    row = run_row(
        model_id,
        training_date,
        trained_at,
        decision,
        rows=metrics["rows"],
        days=metrics["days_with_features"],
        held_out_days=",".join(held_out_days),
        mae=new_mae,
        r2=metrics.get("r2"),
        model_uri=uri,
    )
    predictions = level_predictions(model, model_id, training_date, frame) if decision.promoted else []
    record(client, settings, row, predictions)
    return as_xcom(row)
