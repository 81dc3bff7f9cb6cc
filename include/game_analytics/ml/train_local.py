"""Train the level-difficulty model locally: predict ``pass_rate`` from the other level features.

Used where no Vertex AI project is configured (the local stack). It reads the exported ``level_features``
Parquet of the ``lookback_days`` days up to the training date, fits a scikit-learn model, and writes
``model.joblib`` and ``metrics.json`` (rows, features, MAE, R²) next to the features.
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


def train(features_root: Path, model_dir: Path, training_date: date, lookback_days: int = 30) -> dict:
    """Fit, evaluate on a held-out quarter (or in-sample when tiny), write the model and metrics, return metrics."""
    import joblib
    from sklearn.ensemble import RandomForestRegressor
    from sklearn.metrics import mean_absolute_error, r2_score
    from sklearn.model_selection import train_test_split

    frame = load_features(features_root, training_date, lookback_days)
    frame = frame.dropna(subset=[TARGET])
    if len(frame) < 2:
        raise ValueError(f"only {len(frame)} level rows with a pass_rate in {features_root}; need at least 2")
    x = frame[FEATURES].astype(float).fillna(0.0)
    y = frame[TARGET].astype(float)
    if len(frame) >= 8:
        x_train, x_test, y_train, y_test = train_test_split(x, y, test_size=0.25, random_state=0)
    else:
        x_train, x_test, y_train, y_test = x, x, y, y
    model = RandomForestRegressor(n_estimators=100, random_state=0, n_jobs=1).fit(x_train, y_train)
    predicted = model.predict(x_test)
    days = sorted(str(d)[:10] for d in frame["date"].unique())
    metrics = {
        "training_date": training_date.isoformat(),
        "lookback_days": lookback_days,
        "rows": int(len(frame)),
        "days_with_features": len(days),
        "feature_days": days,
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
