"""Train the level-difficulty model locally: predict ``pass_rate`` from the other level features.

Used where no Vertex AI project is configured (the local stack). It reads the exported ``level_features``
Parquet of the ``lookback_days`` days up to the training date, fits a scikit-learn model, and writes
``model.joblib`` and ``metrics.json`` (rows, features, MAE, R², the held-out days) to the model's folder.
The held-out split is a function of the rows alone (key order, fixed seed), so ``ml/registry.py`` finds the same
held-out rows again to evaluate the current model on them.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

FEATURES = ["attempts", "avg_moves", "p95_moves", "retry_rate", "booster_usage_rate", "unique_players"]
TARGET = "pass_rate"
KEY = ["date", "level_id"]  # one row per level and day (sql/level_features)


def feature_days(training_date: date, lookback_days: int) -> list[date]:
    return [training_date - timedelta(days=n) for n in range(lookback_days)]


def load_features(features_root: Path, training_date: date, lookback_days: int):
    """All rows of the exported days that exist, in key order; days with no export are skipped (counted in the
    metrics)."""
    import pandas as pd

    frames = []
    for day in feature_days(training_date, lookback_days):
        folder = features_root / f"dt={day.isoformat()}"
        frames.extend(pd.read_parquet(f) for f in sorted(folder.glob("*.parquet")))
    if not frames:
        raise FileNotFoundError(
            f"no level_features Parquet under {features_root} for the {lookback_days} days to {training_date}"
        )
    # In key order: an export's row order is the warehouse's (it varies from run to run), and the held-out split
    # is by position, so the same days must give the same rows in the same order to give the same model.
    return pd.concat(frames, ignore_index=True).sort_values(KEY, kind="stable", ignore_index=True)


def training_rows(frame, source: Path):
    """The rows with a ``pass_rate`` (a level nobody attempted has none); fewer than 2 is an error."""
    rows = frame.dropna(subset=[TARGET])
    if len(rows) < 2:
        raise ValueError(f"only {len(rows)} level rows with a pass_rate in {source}; need at least 2")
    return rows


def feature_matrix(frame):
    """The model's input: the feature columns as floats, a missing value as 0."""
    return frame[FEATURES].astype(float).fillna(0.0)


def held_out_split(rows):
    """(training rows, held-out rows): a fixed-seed quarter held out, or every row both ways when under 8 rows."""
    if len(rows) < 8:
        return rows, rows
    from sklearn.model_selection import train_test_split

    return train_test_split(rows, test_size=0.25, random_state=0)


def iso_days(values) -> list[str]:
    """The distinct days of a ``date`` column, sorted, as ``YYYY-MM-DD``."""
    return sorted({str(d)[:10] for d in values})


def train(features_root: Path, model_dir: Path, training_date: date, lookback_days: int = 30) -> dict:
    """Fit, evaluate on a held-out quarter (or in-sample when tiny), write the model and metrics, return metrics."""
    import joblib
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.metrics import mean_absolute_error, r2_score

    rows = training_rows(load_features(features_root, training_date, lookback_days), features_root)
    fit_rows, test_rows = held_out_split(rows)
    y_test = test_rows[TARGET].astype(float)
    model = RandomForestRegressor(n_estimators=100, random_state=0, n_jobs=1)
    model.fit(feature_matrix(fit_rows), fit_rows[TARGET].astype(float))
    predicted = model.predict(feature_matrix(test_rows))
    days = iso_days(rows["date"])
    metrics = {
        "training_date": training_date.isoformat(),
        "lookback_days": lookback_days,
        "rows": int(len(rows)),
        "days_with_features": len(days),
        "feature_days": days,
        "held_out_days": iso_days(test_rows["date"]),
        "features": FEATURES,
        "target": TARGET,
        "mae": float(mean_absolute_error(y_test, predicted)),
        "r2": float(r2_score(y_test, predicted)) if len(y_test) > 1 else None,
        "test_rows": int(len(y_test)),
    }
    model_dir.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, model_dir / "model.joblib")
    (model_dir / "metrics.json").write_text(json.dumps(metrics, indent=2))
    return metrics
