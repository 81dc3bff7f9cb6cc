"""The alert horizon end to end (issue 18): measurement, lifecycle and store together, on the emulator, at fixed
instants. A check that failed on the horizon's first day fires; a day later that day is older than the horizon, no
longer measured, and its alert expires (not fixed) instead of resolving; a check of a later day that a re-run fixed
resolves."""

from __future__ import annotations

import dataclasses
from datetime import timedelta

import pytest

from game_analytics.health.alert_store import read_states
from game_analytics.health.run import run_health_check
from tests.health.conftest import INSTANT_IDS, INSTANTS
from tests.health.rows import naive
from tests.health.test_measure import midnight
from tests.sql.rows import Warehouse

pytestmark = pytest.mark.stack
DAY = timedelta(days=1)


@pytest.mark.parametrize("now", INSTANTS[1:4], ids=INSTANT_IDS[1:4])
def test_a_failure_on_the_horizons_first_day_expires_the_day_after_and_a_fixed_one_resolves(warehouse, settings, now):
    settings = dataclasses.replace(settings, alert_horizon_days=30)
    today = midnight(now).date()
    old, recent = today - timedelta(days=30), today - timedelta(days=2)

    def check(day, status: str) -> dict:
        return {"day": day, "table_name": "level_metrics", "check_name": "rates_in_unit_interval", "severity": "fail",
                "status": status, "offending_rows": 3, "checked_at": naive(now)}  # fmt: skip

    wh = Warehouse(warehouse, settings)
    wh.insert("check_results", [check(old, "fail"), check(recent, "fail")])
    sent: list[dict] = []
    first = run_health_check(warehouse, settings, now, None, sent.append, [])
    subjects = {day: f"level_metrics.rates_in_unit_interval@{day}" for day in (old, recent)}
    assert {f"check_failed[{subjects[old]}]", f"check_failed[{subjects[recent]}]"} <= set(first.firing)
    # The recent day is re-run and passes (its check rows replaced); a day passes and the old day leaves the horizon.
    warehouse.query(f"DELETE FROM {settings.table('check_results')} WHERE day = DATE '{recent}'").result()
    wh.insert("check_results", [check(recent, "pass")])
    later = run_health_check(warehouse, settings, now + DAY, None, sent.append, [])
    assert not [f for f in later.firing if f.startswith("check_failed")], later.firing
    states = {s.subject: s.status for s in read_states(warehouse, settings) if s.rule == "check_failed"}
    assert states == {subjects[old]: "expired", subjects[recent]: "resolved"}
    kinds = [(n["subject"], n["kind"]) for n in sent if n["rule"] == "check_failed"]
    assert sorted(kinds) == sorted([(subjects[old], "firing"), (subjects[recent], "firing"),
                                    (subjects[old], "expired"), (subjects[recent], "resolved")])  # fmt: skip
