"""Weekly training: Sundays only; local scikit-learn model by default, Vertex AI by configuration."""

from __future__ import annotations

import json
import random
from datetime import UTC, date, datetime, timedelta

import pandas as pd
import pytest
from airflow.sdk.exceptions import AirflowSkipException

from game_analytics.daily import tasks
from game_analytics.ml.train_local import FEATURES, train

SUNDAY = date(2026, 11, 8)


def write_features(root, day: date, levels: int, seed: int, shuffled: bool = False) -> None:
    """Level features where pass_rate falls with p95_moves, as in the game; ``shuffled``: in another row order,
    as the warehouse may export them."""
    rng = random.Random(seed)
    rows = []
    for level in range(1, levels + 1):
        p95 = 10 + 2 * level + rng.random()
        rows.append({
            "level_id": level, "date": day, "attempts": 100 + rng.randint(0, 50),
            "pass_rate": max(0.0, 1.0 - 0.03 * level + rng.uniform(-0.02, 0.02)),
            "avg_moves": p95 * 0.7, "p95_moves": p95, "retry_rate": 0.01 * level,
            "booster_usage_rate": rng.random() * 0.3, "unique_players": 80,
        })  # fmt: skip
    if shuffled:
        random.Random(f"order:{seed}").shuffle(rows)
    folder = root / f"dt={day.isoformat()}"
    folder.mkdir(parents=True)
    pd.DataFrame(rows).to_parquet(folder / "000000000000.parquet")


def test_local_training_reads_lookback_window_and_writes_model_and_metrics(tmp_path):
    features = tmp_path / "level_features"
    for n in range(10):
        write_features(features, SUNDAY - timedelta(days=n), levels=20, seed=n)
    write_features(features, SUNDAY + timedelta(days=1), levels=20, seed=99)  # after D: must be ignored
    metrics = train(features, tmp_path / "model", SUNDAY, lookback_days=30)
    assert metrics["rows"] == 200 and metrics["days_with_features"] == 10
    assert metrics["feature_days"] == [(SUNDAY - timedelta(days=n)).isoformat() for n in range(9, -1, -1)]
    assert metrics["features"] == FEATURES and metrics["mae"] < 0.1 and metrics["r2"] > 0.5
    assert json.loads((tmp_path / "model" / "metrics.json").read_text()) == metrics
    assert (tmp_path / "model" / "model.joblib").stat().st_size > 0


def test_the_same_days_exported_in_another_row_order_train_the_same_model(tmp_path):
    metrics = []
    for shuffled in (False, True):
        root = tmp_path / str(shuffled)
        for n in range(7):
            write_features(root / "features", SUNDAY - timedelta(days=n), levels=20, seed=n, shuffled=shuffled)
        metrics.append(train(root / "features", root / "model", SUNDAY, lookback_days=30))
    assert metrics[0] == metrics[1]


def test_training_without_features_says_where_it_looked(tmp_path):
    with pytest.raises(FileNotFoundError, match="no level_features Parquet under"):
        train(tmp_path, tmp_path / "model", SUNDAY)


def test_weekdays_are_skipped_visibly():
    with pytest.raises(AirflowSkipException, match="2026-11-09 is a Monday"):
        tasks.trigger_ml_training.function(logical_date=datetime(2026, 11, 9, tzinfo=UTC), ds="2026-11-09")
