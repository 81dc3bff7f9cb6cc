"""The model history (ml/registry.py) on the real emulator: every training is a model_runs row, a new model is
promoted only when its MAE is not worse than the current model's on the same held-out rows, and the promoted
model's predicted pass rate per level is in level_predictions.

The features are written as the export writes them (tests/daily/test_training.py: pass_rate falls with the level);
the models are real local trainings. Which model is better is made certain by the labels the training learns from:
a broken export (every pass_rate 0.5) trains a model that cannot rank levels, a clean one trains one that can. The
held-out split depends only on the rows' number and key order, so a test can break exactly the rows a training
learns from and keep its held-out rows right (a worse model, scored on true labels).
"""

from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pandas as pd
import pytest

from game_analytics.daily import tasks
from game_analytics.ml.registry import (
    CURRENT_MODEL_HORIZON_DAYS,
    days_text,
    model_folder_uri,
    new_model_id,
    register_local_training,
)
from game_analytics.ml.train_local import TARGET, held_out_split, load_features, training_rows
from game_analytics.storage import local_path
from game_analytics.warehouse.client import query_rows
from tests.daily.test_training import write_features

pytestmark = pytest.mark.stack
SUNDAY = date(2026, 11, 8)
LEVELS, DAYS = 20, 10


@pytest.fixture
def gcs(tmp_path, monkeypatch):
    """The local GCS of this test: features and models under tmp_path."""
    monkeypatch.setenv("BQEMU_GCS_LOCAL_ROOT", str(tmp_path / "gcs"))
    return tmp_path / "gcs"


@pytest.fixture
def history(gcs, warehouse, settings):
    return History(warehouse, dataclasses.replace(settings, training_lookback_days=DAYS))


class History:
    """Features written for a Sunday's window, trainings run and recorded as the task does."""

    def __init__(self, client, settings):
        self.client, self.settings = client, settings
        self.features = local_path(settings.features_root)

    def export(self, sunday: date, seed: int = 0, broken: str | None = None) -> None:
        """The window's features (a day exported again replaces its folder). ``broken``: every pass_rate 0.5
        (``"all"``), or only in the rows the training learns from (``"training rows"``), its held-out rows right."""
        for n in range(DAYS):
            day = sunday - timedelta(days=n)
            shutil.rmtree(self.features / f"dt={day.isoformat()}", ignore_errors=True)
            write_features(self.features, day, levels=LEVELS, seed=seed * 100 + n)
        if broken is None:
            return
        held_out = set()
        if broken == "training rows":
            split = held_out_split(training_rows(load_features(self.features, sunday, DAYS), self.features))[1]
            held_out = {(str(d)[:10], level) for d, level in zip(split["date"], split["level_id"], strict=True)}
        for n in range(DAYS):
            path = self.features / f"dt={(sunday - timedelta(days=n)).isoformat()}" / "000000000000.parquet"
            frame = pd.read_parquet(path)
            keep = [(str(d)[:10], level) in held_out for d, level in zip(frame["date"], frame["level_id"], strict=True)]
            frame[TARGET] = frame[TARGET].where(keep, 0.5)
            frame.to_parquet(path)

    def train(self, sunday: date, run_id: str = "run", try_number: int = 1) -> dict:
        model_id = new_model_id(sunday, f"{run_id}:{sunday}", try_number)
        metrics = tasks._train_locally(self.settings, sunday, model_id)
        trained_at = datetime.combine(sunday + timedelta(days=1), datetime.min.time(), UTC) + timedelta(
            hours=try_number
        )
        return register_local_training(self.client, self.settings, sunday, model_id, metrics, self.features, trained_at)

    def runs(self) -> list[dict]:
        return query_rows(
            self.client,
            f"SELECT * FROM {self.settings.table('model_runs')} WHERE training_date >= '2026-01-01' "
            "ORDER BY training_date, trained_at",
        )

    def predictions(self, model_id: str) -> dict[int, float]:
        rows = query_rows(
            self.client,
            f"SELECT level_id, predicted_pass_rate FROM {self.settings.table('level_predictions')} "
            f"WHERE training_date >= '2026-01-01' AND model_id = '{model_id}'",
        )
        return {r["level_id"]: r["predicted_pass_rate"] for r in rows}

    def held_out_text(self, sunday: date) -> str:
        """The held-out rows of ``sunday``'s training, in the words of the decision, derived here from the files."""
        rows = training_rows(load_features(self.features, sunday, DAYS), self.features)
        held_out = held_out_split(rows)[1]
        return f"{len(held_out)} held-out rows of {days_text(sorted({str(d)[:10] for d in held_out['date']}))}"


def test_the_first_model_is_promoted_with_its_predictions(history):
    history.export(SUNDAY)
    first = history.train(SUNDAY)
    [row] = history.runs()
    assert row["model_id"] == first["model_id"] and row["promoted"] is True
    assert row["compared_with"] is None and row["current_mae"] is None and row["registry_version"] is None
    assert (row["rows"], row["days"]) == (LEVELS * DAYS, DAYS)
    assert 0 < row["mae"] < 0.1 and row["r2"] > 0.5
    assert row["model_uri"] == model_folder_uri(history.settings, SUNDAY, first["model_id"])
    assert (local_path(row["model_uri"]) / "model.joblib").exists()
    assert f"no model was promoted in the {CURRENT_MODEL_HORIZON_DAYS} days" in row["decision"]
    assert history.held_out_text(SUNDAY) in row["decision"] and f"MAE {row['mae']:.4g}" in row["decision"]
    window = {(SUNDAY - timedelta(days=n)).isoformat() for n in range(DAYS)}
    assert (
        set(row["held_out_days"].split(",")) <= window and days_text(row["held_out_days"].split(",")) in row["decision"]
    )
    # Predicted from the latest day's features: one per level, falling with the level as the pass rate does.
    predicted = history.predictions(first["model_id"])
    assert sorted(predicted) == list(range(1, LEVELS + 1))
    assert predicted[1] > predicted[LEVELS // 2] > predicted[LEVELS]
    assert first["promoted"] is True and first["decision"] == row["decision"]  # the task's XCom


def test_a_better_model_is_promoted_and_names_both_maes(history):
    last_week = SUNDAY - timedelta(days=7)
    history.export(last_week, broken="all")  # a broken export: the model learns nothing of the levels
    broken = history.train(last_week)
    history.export(SUNDAY, seed=1)
    better = history.train(SUNDAY)
    runs = {r["model_id"]: r for r in history.runs()}
    row = runs[better["model_id"]]
    assert row["promoted"] is True and row["compared_with"] == broken["model_id"]
    assert row["mae"] < row["current_mae"]
    assert row["decision"].startswith(f"promoted: MAE {row['mae']:.4g} <= {row['current_mae']:.4g}")
    assert broken["model_id"] in row["decision"] and history.held_out_text(SUNDAY) in row["decision"]
    assert history.predictions(better["model_id"]) and history.predictions(broken["model_id"])


def test_a_worse_model_is_not_promoted_and_the_current_one_stays(history):
    last_week = SUNDAY - timedelta(days=7)
    history.export(last_week)
    good = history.train(last_week)
    history.export(SUNDAY, seed=1, broken="training rows")  # what this week's model learns from is broken
    worse = history.train(SUNDAY)
    runs = {r["model_id"]: r for r in history.runs()}
    row = runs[worse["model_id"]]
    assert row["promoted"] is False and row["compared_with"] == good["model_id"]
    assert row["mae"] > row["current_mae"]
    assert row["decision"] == (
        f"not promoted: MAE {row['mae']:.4g} > {row['current_mae']:.4g} of the current model {good['model_id']}, "
        f"on the same {history.held_out_text(SUNDAY)}; {good['model_id']} stays current"
    )
    assert history.predictions(worse["model_id"]) == {}
    # The next training compares with the model that stayed current, not with the one that was not promoted.
    history.export(SUNDAY + timedelta(days=7), seed=2)
    after = history.train(SUNDAY + timedelta(days=7))
    assert after["compared_with"] == good["model_id"]


def test_recording_the_same_try_again_replaces_its_row_and_a_new_try_is_a_new_model(history):
    history.export(SUNDAY)
    first = history.train(SUNDAY)
    again = history.train(SUNDAY)  # the same try recorded again (the task re-run for the same try)
    assert again["model_id"] == first["model_id"]
    runs = history.runs()
    assert [r["model_id"] for r in runs] == [first["model_id"]]
    # It does not compare with itself: it is still the first model, promoted.
    assert runs[0]["promoted"] is True and runs[0]["compared_with"] is None
    assert len(history.predictions(first["model_id"])) == LEVELS
    retry = history.train(SUNDAY, try_number=2)  # a retry or a cleared task trains again: another model
    assert retry["model_id"] != first["model_id"] and retry["compared_with"] == first["model_id"]
    assert [r["model_id"] for r in history.runs()] == [first["model_id"], retry["model_id"]]
    # The same rows, the same seed: the same model, not worse, promoted; each model folder is its own.
    assert retry["promoted"] is True and retry["mae"] == retry["current_mae"]
    assert retry["model_uri"] != first["model_uri"] and (local_path(first["model_uri"]) / "model.joblib").exists()


def test_a_current_model_that_cannot_be_loaded_is_replaced_and_the_reason_says_so(history):
    last_week = SUNDAY - timedelta(days=7)
    history.export(last_week)
    lost = history.train(last_week)
    (local_path(lost["model_uri"]) / "model.joblib").unlink()
    history.export(SUNDAY, seed=1)
    new = history.train(SUNDAY)
    assert new["promoted"] is True and new["compared_with"] == lost["model_id"] and new["current_mae"] is None
    assert f"the current model {lost['model_id']} could not be scored (from {lost['model_uri']}: " in new["decision"]
    assert "No such file" in new["decision"] and history.held_out_text(SUNDAY) in new["decision"]


def test_a_backfilled_sunday_compares_with_the_model_current_then(history):
    """A later Sunday's model is not the current one of an earlier Sunday (trained later, in a backfill)."""
    early, late = SUNDAY - timedelta(days=7), SUNDAY
    history.export(late)
    later = history.train(late)
    history.export(early, seed=3)
    backfilled = history.train(early)
    assert later["compared_with"] is None and backfilled["compared_with"] is None


def test_the_task_records_the_training_and_returns_the_decision(gcs, warehouse, settings, monkeypatch):
    """trigger_ml_training itself, with the environment's settings pointed at this test's dataset."""
    monkeypatch.setenv("GA_BQ_DATASET", settings.bq_dataset)
    monkeypatch.setenv("GA_TRAINING_LOOKBACK_DAYS", str(DAYS))
    History(warehouse, settings).export(SUNDAY)
    context = {"logical_date": datetime(2026, 11, 8, tzinfo=UTC), "ds": SUNDAY.isoformat(), "run_id": "manual__x"}
    result = tasks.trigger_ml_training.function(**context, ti=SimpleNamespace(try_number=1))
    assert result["model_id"] == new_model_id(SUNDAY, "manual__x", 1) and result["promoted"] is True
    stored = query_rows(warehouse, f"SELECT model_id, decision FROM {settings.table('model_runs')} "
                        f"WHERE training_date = '{SUNDAY}'")  # fmt: skip
    assert stored == [{"model_id": result["model_id"], "decision": result["decision"]}]


# -- Vertex AI ---------------------------------------------------------------------------------------------------
MODEL = "projects/prod-project/locations/europe-west1/models/123"


def pipeline_job(metrics: dict | None) -> dict:
    """A finished pipeline job as PipelineJob.to_dict() gives it: the registered model's artifact, and the metrics
    artifact unless ``metrics`` is None."""
    outputs = {"model": {"artifacts": [{"schemaTitle": "google.VertexModel", "uri": f"https://x/v1/{MODEL}",
                                        "metadata": {"resourceName": MODEL}}]}}  # fmt: skip
    if metrics is not None:
        outputs["metrics"] = {"artifacts": [{"schemaTitle": "system.Metrics", "metadata": metrics}]}
    return {"name": "projects/p/locations/r/pipelineJobs/456", "jobDetail": {"taskDetails": [{"outputs": outputs}]}}


@pytest.fixture
def vertex(gcs, warehouse, settings, monkeypatch):
    """Vertex AI cannot run here: the pipeline operator's execute and the Model Registry hook's get_model are
    replaced by fakes (what they were called with is kept); the warehouse is the real emulator."""
    from airflow.providers.google.cloud.hooks.vertex_ai.model_service import ModelServiceHook
    from airflow.providers.google.cloud.operators.vertex_ai.pipeline_job import RunPipelineJobOperator

    fake = SimpleNamespace(job=None, seen={})

    def execute(operator, context):
        fake.seen.update(project=operator.project_id, region=operator.region, params=operator.parameter_values)
        return fake.job

    def get_model(hook, region, project_id, model_id):
        fake.seen["model"] = (project_id, region, model_id)
        return SimpleNamespace(name=MODEL, version_id="4", artifact_uri="gs://prod-models/level-difficulty/4")

    monkeypatch.setattr(RunPipelineJobOperator, "execute", execute)
    monkeypatch.setattr(ModelServiceHook, "get_model", get_model)
    monkeypatch.setenv("GA_VERTEX_PROJECT", "prod-project")
    monkeypatch.setenv("GA_VERTEX_PIPELINE_TEMPLATE", "gs://templates/level_difficulty.yaml")
    monkeypatch.setenv("GA_BQ_DATASET", settings.bq_dataset)

    def run(job: dict, try_number: int = 1) -> dict:
        fake.job = job
        context = {"logical_date": datetime(2026, 11, 8, tzinfo=UTC), "ds": SUNDAY.isoformat(), "run_id": "sched"}
        return tasks.trigger_ml_training.function(**context, ti=SimpleNamespace(try_number=try_number))

    fake.run = run
    return fake


def test_vertex_training_is_recorded_with_its_registry_version(vertex, history):
    last_week = SUNDAY - timedelta(days=7)
    history.export(last_week)
    current = history.train(last_week)  # a local model is current
    reported = {"mae": current["mae"] / 2, "r2": 0.97, "rows": 600, "days": 30,
                "held_out_days": ["2026-11-07", "2026-11-08", "2026-11-05"]}  # fmt: skip
    result = vertex.run(pipeline_job(reported))
    assert vertex.seen == {
        "project": "prod-project",
        "region": "europe-west1",
        "params": {"training_date": "2026-11-08", "lookback_days": 30},
        "model": ("prod-project", "europe-west1", "123"),
    }
    assert result["pipeline_job"].endswith("/456")
    row = {r["model_id"]: r for r in history.runs()}[result["model_id"]]
    assert row["registry_version"] == f"{MODEL}@4" and row["model_uri"] == "gs://prod-models/level-difficulty/4"
    assert (row["mae"], row["r2"], row["rows"], row["days"]) == (current["mae"] / 2, 0.97, 600, 30)
    assert row["held_out_days"] == "2026-11-05,2026-11-07,2026-11-08"
    assert row["promoted"] is True and row["compared_with"] == current["model_id"]
    assert row["current_mae"] == current["mae"]
    assert row["decision"].startswith(
        f"promoted: MAE {row['mae']:.4g} <= {current['mae']:.4g} recorded for the current model {current['model_id']}"
    )
    assert "not the same rows" in row["decision"] and "2026-11-05, 2026-11-07 to 2026-11-08" in row["decision"]
    assert history.predictions(result["model_id"]) == {}  # served by Vertex AI, not predicted here


def test_vertex_training_whose_metrics_cannot_be_read_is_recorded_not_promoted(vertex, history):
    first = vertex.run(pipeline_job(None))
    again = vertex.run(pipeline_job({"r2": 0.9}), try_number=2)  # metrics without an MAE
    rows = {r["model_id"]: r for r in history.runs()}
    assert set(rows) == {first["model_id"], again["model_id"]}
    for result, why in ((first, "0 system.Metrics output artifacts"), (again, "has no numeric mae")):
        row = rows[result["model_id"]]
        assert row["promoted"] is False and row["registry_version"] == f"{MODEL}@4"
        assert (row["mae"], row["r2"], row["rows"], row["held_out_days"]) == (None, None, None, None)
        assert row["decision"].startswith("not promoted: the pipeline's metrics could not be read (ValueError: ")
        assert why in row["decision"] and row["decision"].endswith("no model is current")
