"""The runner behind the `checks_<table>` tasks: a fail check stops the run naming check, table, day and values;
a warn check only reports."""

from __future__ import annotations

import logging

import pytest

from game_analytics.daily.quality import DataQualityError, run_table_checks
from tests.sql.rows import event, shift

DAY = "2026-03-10"


def test_fail_check_raises_naming_check_table_day_and_values(wh):
    wh.insert_events([event(1001, "u1", DAY, {"level_id": 7}), event(1002, "u1", DAY, {"level_id": 7})])
    wh.materialize("level_metrics", DAY)
    wh.run(f"UPDATE {wh.table('level_metrics')} SET pass_rate = 1.5 WHERE `date` = DATE '{DAY}'")
    with pytest.raises(DataQualityError) as err:
        run_table_checks(wh.run, wh.settings, "level_metrics", DAY)
    message = str(err.value)
    assert "[fail] check rates_in_unit_interval on level_metrics for 2026-03-10" in message
    assert "level_id=7" in message and "pass_rate=1.5" in message
    assert "key_unique_not_null" not in message  # only the failing check is reported


def test_warn_check_logs_and_lets_the_run_continue(wh, caplog):
    day = "2026-03-20"  # 10 completions a day for the 7 days before, 1 on the day: a 90 % drop
    history = [event(1002, f"h{d}-{n}", shift(day, -d), {"level_id": 1}) for d in range(1, 8) for n in range(10)]
    wh.insert_events(history + [event(1002, "today", day, {"level_id": 1})])
    with caplog.at_level(logging.WARNING):
        results = run_table_checks(wh.run, wh.settings, "events", day)
    warned = [r for r in results if not r.passed]
    assert [r.check.name for r in warned] == ["level_complete_volume"]
    assert "[warn] check level_complete_volume on events for 2026-03-20" in warned[0].message()
    assert "day_count=1" in warned[0].message() and "drop_ratio=0.9" in warned[0].message()
    assert "level_complete_volume" in caplog.text
