"""kpi_ui/snapshot.py against the BigQuery emulator: each read returns its window's rows and nothing else, as of a
fixed clock; an empty warehouse and a warehouse without the tables give "no data yet", not an error. Plus the
page's rendering without servers, and that every query the page runs reads only the partitions it shows.

The instants cross boundaries: a Monday 00:30 UTC (today's live counts have 7 windows; the 30 days span a month
end), and the last second of a leap day.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta

import pytest

from game_analytics.config import load_settings
from game_analytics.kpi_ui.page import render_page
from game_analytics.kpi_ui.snapshot import KpiSnapshot, LevelDifficulty, Model, read_kpis
from game_analytics.warehouse.sql_templates import render_sql
from tests.sql.rows import Warehouse
from tests.sql.test_events_partition_filter import TIME_PARTITIONED, _template_variables, unfiltered_reads
from tests.ui import kpi_seed

NOWS = [
    datetime(2026, 3, 2, 0, 30, tzinfo=UTC),
    datetime(2028, 2, 29, 23, 59, 59, 500000, tzinfo=UTC),
]
KPI_QUERIES = [
    "daily_summary/kpi_days.sql",
    "retention/kpi_cohorts.sql",
    "level_metrics/kpi_last_days.sql",
    "model_runs/current.sql",
    "level_predictions/kpi_model.sql",
    "live_event_counts/kpi_today.sql",
]


@pytest.fixture(params=NOWS, ids=lambda now: now.strftime("%Y-%m-%dT%H:%M"))
def seeded(request, warehouse, settings):
    seed = kpi_seed.build(request.param)
    kpi_seed.plant(Warehouse(warehouse, settings), seed)
    return seed


def expected_levels(seed: kpi_seed.KpiSeed) -> list[LevelDifficulty]:
    in_window = [r for r in seed.rows["level_metrics"] if r["date"] >= seed.back(7)]
    predicted = {
        r["level_id"]: r["predicted_pass_rate"]
        for r in seed.rows["level_predictions"]
        if r["model_id"] == seed.current_model
    }
    levels = []
    for level in kpi_seed.LEVELS:
        rows = [r for r in in_window if r["level_id"] == level]
        completions, failures = sum(r["completions"] for r in rows), sum(r["failures"] for r in rows)
        levels.append(
            LevelDifficulty(
                level,
                sum(r["attempts"] for r in rows),
                completions,
                failures,
                completions / (completions + failures),
                predicted.get(level),
            )
        )
    return levels


@pytest.mark.stack
def test_the_snapshot_reads_each_window(seeded, warehouse, settings):
    snapshot = read_kpis(warehouse, settings, seeded.now)
    today = seeded.today

    assert snapshot.days == [today - timedelta(days=n) for n in range(30, 0, -1)]
    expected_days = sorted((r for r in seeded.rows["daily_summary"] if r["date"] >= seeded.back(30)), key=str)
    expected_days.sort(key=lambda r: r["date"])
    got = [vars(row) for row in snapshot.summary]
    assert [r["date"] for r in got] == [r["date"] for r in expected_days]  # 28 days: D-4 and D-5 have no row
    for row, want in zip(got, expected_days, strict=True):
        assert row == pytest.approx({k: want[k] for k in row}), row["date"]
    assert snapshot.latest.date == seeded.back(1)

    retention = {(r.cohort_date, r.day_n, r.platform): (r.cohort_size, r.retained_users) for r in snapshot.retention}
    assert retention == {
        (r["cohort_date"], r["day_n"], r["platform"]): (r["cohort_size"], r["retained_users"])
        for r in seeded.rows["retention"]
        if r["date"] >= seeded.back(30)
    }
    assert min(r.cohort_date for r in snapshot.retention) == snapshot.cohort_days[0] == seeded.back(60)
    assert max(r.cohort_date for r in snapshot.retention) == snapshot.cohort_days[-1] == seeded.back(2)
    newest_d1 = snapshot.newest_retention(1)
    assert (newest_d1.cohort_date, newest_d1.platform) == (seeded.back(2), "all")

    assert snapshot.model == Model(seeded.current_model, seeded.back(3), 0.05, f"/models/{seeded.current_model}", None)
    assert snapshot.levels == pytest.approx(expected_levels(seeded))
    assert snapshot.levels[2].predicted_pass_rate is None

    start = datetime.combine(today, datetime.min.time(), UTC)
    in_today = [r for r in seeded.rows["live_event_counts"] if start <= r["window_start"] <= seeded.now]
    windows = sorted({r["window_start"] for r in in_today})
    assert [w.window_start for w in snapshot.live] == windows
    assert snapshot.live_totals == pytest.approx(
        {
            "events": sum(r["events"] for r in in_today),
            "purchases": sum(r["purchases"] for r in in_today),
            "revenue_usd": sum(r["revenue_usd"] for r in in_today),
        }
    )
    assert snapshot.live_windows[-1] == windows[-1] and snapshot.live_windows[0] == start
    assert snapshot.missing_tables == [] and not snapshot.is_empty

    # The JSON has the same numbers.
    body = json.loads(json.dumps(snapshot.to_json()))
    assert body["today"] == today.isoformat()
    assert body["days"] == {"first": seeded.back(30).isoformat(), "last": seeded.back(1).isoformat()}
    assert body["daily_summary"] == json.loads(json.dumps([vars(r) for r in snapshot.summary], default=str))
    assert body["model"]["model_id"] == seeded.current_model
    assert [level["level_id"] for level in body["levels"]] == list(kpi_seed.LEVELS)
    assert body["today_so_far"]["events"] == sum(w["events"] for w in body["today_so_far"]["windows"])

    # Read as of before the current model was trained, the one before it is current.
    earlier = read_kpis(warehouse, settings, seeded.now - timedelta(days=5))
    assert earlier.model.model_id == f"{kpi_seed.MODEL_PREFIX}older"


@pytest.mark.stack
def test_an_empty_warehouse_gives_a_no_data_page(warehouse, settings):
    snapshot = read_kpis(warehouse, settings, NOWS[0])
    assert snapshot.is_empty and snapshot.missing_tables == []
    assert snapshot.summary == [] and snapshot.model is None and snapshot.live_totals["events"] == 0
    html = render_page(snapshot, "/game-kpis", "/pipeline-health")
    assert 'data-no-data="true"' in html and "No data yet." in html
    assert "no daily summary yet" in html and "no events counted today yet" in html


@pytest.mark.stack
def test_tables_that_do_not_exist_yet_are_named_not_an_error(bq, settings):
    snapshot = read_kpis(bq, settings, NOWS[0])  # the dataset was never created
    assert snapshot.missing_tables == ["daily_summary", "retention", "model_runs", "level_metrics", "live_event_counts"]
    assert "Tables not in the warehouse yet: daily_summary" in render_page(snapshot, "/game-kpis", "/pipeline-health")


def _snapshot(now: datetime) -> KpiSnapshot:
    yesterday = now.date() - timedelta(days=1)
    return KpiSnapshot(now, [yesterday - timedelta(days=n) for n in range(29, -1, -1)], [yesterday], [yesterday])


def test_warehouse_text_cannot_inject_markup():
    evil = "<script>alert(1)</script>"
    snapshot = _snapshot(NOWS[0])
    snapshot.model = Model(evil, date(2026, 3, 1), None, evil, None)
    snapshot.levels = [LevelDifficulty(1, 10, 5, 5, 0.5, 0.4)]
    html = render_page(snapshot, "/game-kpis", "/pipeline-health")
    assert "<script" not in html and "&lt;script&gt;" in html


def test_every_drawn_number_is_a_data_attribute():
    snapshot = _snapshot(NOWS[0])
    snapshot.levels = [LevelDifficulty(1, 10, 5, 5, 0.5, 0.4), LevelDifficulty(2, 8, 2, 6, 0.25, None)]
    html = render_page(snapshot, "/game-kpis", "/pipeline-health")
    assert html.count('data-chart="pass_rate"') == 3  # two measured points, one predicted (level 2 has none)
    assert 'data-chart="attempts" data-series="attempts" data-x="2" data-value="8"' in html
    assert '<tr data-level="2">' in html and 'data-col="predicted" data-value="">–</td>' in html


@pytest.mark.parametrize("path", KPI_QUERIES)
def test_every_kpi_query_reads_only_the_partitions_it_shows(path):
    sql = render_sql(path, load_settings(), **_template_variables(path))
    assert unfiltered_reads(sql, TIME_PARTITIONED, ranges=True) == [], path
