"""The file-armed crash point kills exactly one process, once, and is inert otherwise (crash_points.py).

SIGKILL is replaced by a recorder here: the kill itself is what the crash tests exercise on real processes.
"""

from __future__ import annotations

import pytest

from game_analytics import crash_points


@pytest.fixture
def kills(monkeypatch, tmp_path):
    killed = []
    monkeypatch.setattr(crash_points.os, "kill", lambda pid, sig: killed.append((pid, sig)))
    monkeypatch.delenv(crash_points.CRASH_VARIABLE, raising=False)
    monkeypatch.setenv(crash_points.CRASH_FILE_VARIABLE, str(tmp_path / "crash-at"))
    return killed


def test_a_point_named_in_the_file_kills_once_and_disarms(kills, tmp_path):
    armed = tmp_path / "crash-at"
    armed.write_text("checks_recorded.level_metrics\n")
    crash_points.crash_point("checks_recorded.user_daily_metrics")
    assert not kills and armed.exists(), "another point must neither die nor disarm it"
    crash_points.crash_point("checks_recorded.level_metrics")
    assert len(kills) == 1 and not armed.exists()
    crash_points.crash_point("checks_recorded.level_metrics")
    assert len(kills) == 1, "armed once: the retry must go on"


def test_no_file_or_a_file_removed_meanwhile_is_inert(kills, monkeypatch, tmp_path):
    crash_points.crash_point("checks_recorded.level_metrics")
    (tmp_path / "crash-at").write_text("checks_recorded.level_metrics")
    monkeypatch.setattr(crash_points.Path, "read_text", lambda self: (_ for _ in ()).throw(FileNotFoundError()))
    crash_points.crash_point("checks_recorded.level_metrics")  # another process took it between two reads
    assert not kills
