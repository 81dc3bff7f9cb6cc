"""The simulation is reproducible, follows the event contract, and has the shapes the metrics rely on."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest

from game_analytics.events.contract import EventType
from game_analytics.producer import APPROX_EVENTS_PER_PLAYER_DAY, generate_events
from game_analytics.producer.__main__ import main as cli
from game_analytics.producer.players import make_players

from ._contract import event_violations, strict_type_problems

SEED, START, DAYS, PLAYERS = 7, date(2026, 11, 1), 3, 300
OUTCOMES = (EventType.LEVEL_COMPLETE, EventType.LEVEL_FAIL)  # how a level attempt ends


@pytest.fixture(scope="module")
def events():
    return list(generate_events(SEED, START, DAYS, PLAYERS))


@pytest.fixture(scope="module")
def many_events():
    """Enough player-days for the rarer shapes (purchases, free promos, hard levels)."""
    return list(generate_events(11, START, 3, 1000))


def _pass_rate(outcomes: Counter) -> float:
    return outcomes[EventType.LEVEL_COMPLETE] / sum(outcomes[code] for code in OUTCOMES)


def _params(events, *codes):
    return [e["parameters"] for e in events if e["event_type"] in codes]


def test_same_seed_same_events_different_seed_different_events(events):
    assert list(generate_events(SEED, START, DAYS, PLAYERS)) == events
    other = list(generate_events(SEED + 1, START, DAYS, PLAYERS))
    assert other != events
    assert not {e["event_id"] for e in other} & {e["event_id"] for e in events}


def test_a_bigger_roster_extends_a_smaller_one():
    assert make_players(SEED, 100, START, DAYS)[:40] == make_players(SEED, 40, START, DAYS)


def test_every_event_is_valid_and_well_typed(events):
    now = datetime.combine(START + timedelta(days=DAYS), datetime.min.time(), UTC)
    assert len({e["event_id"] for e in events}) == len(events)
    problems = {e["event_id"]: event_violations(e, now) | set(strict_type_problems(e)) for e in events}
    assert {k: v for k, v in problems.items() if v} == {}


def test_days_are_in_time_order_and_timestamps_inside_the_day(events):
    for day in (START + timedelta(days=i) for i in range(DAYS)):
        stamps = [datetime.fromisoformat(e["timestamp"]) for e in events if e["timestamp"][:10] == str(day)]
        assert stamps and stamps == sorted(stamps)
        assert all(s.date() == day and s.tzinfo == UTC for s in stamps)
    assert all(e["timestamp"].endswith("Z") for e in events)
    days_in_order = [e["timestamp"][:10] for e in events]
    assert days_in_order == sorted(days_in_order)


def test_sessions_are_bracketed_and_durations_add_up(events):
    by_session = defaultdict(list)
    for e in events:
        by_session[e["session_id"]].append(e)
    for session in by_session.values():
        assert [e["event_type"] for e in (session[0], session[-1])] == [EventType.SESSION_START, EventType.SESSION_END]
        start, end = (datetime.fromisoformat(e["timestamp"]) for e in (session[0], session[-1]))
        assert abs((end - start).total_seconds() - session[-1]["parameters"]["duration_sec"]) < 1


def test_pass_rate_falls_with_level(many_events):
    outcomes = defaultdict(Counter)
    for e in many_events:
        if e["event_type"] in OUTCOMES:
            band = min(e["parameters"]["level_id"] // 20, 3)  # 0-19, 20-39, 40-59, 60+
            outcomes[band][e["event_type"]] += 1
    rates = [_pass_rate(outcomes[b]) for b in range(4)]
    assert rates == sorted(rates, reverse=True) and rates[0] - rates[-1] > 0.2, rates


def test_boosters_help_and_failed_levels_are_retried(events):
    outcomes = defaultdict(Counter)
    for p, code in ((e["parameters"], e["event_type"]) for e in events if e["event_type"] in OUTCOMES):
        if p["level_id"] < 40:
            outcomes[bool(p["boosters_used"])][code] += 1
    with_b, without = (_pass_rate(o) for o in (outcomes[True], outcomes[False]))
    assert with_b > without
    starts = Counter(
        (e["user_id"], e["parameters"]["level_id"]) for e in events if e["event_type"] == EventType.LEVEL_START
    )
    assert sum(n > 1 for n in starts.values()) > len(starts) / 10


def test_a_minority_pays_and_free_promos_exist(many_events):
    users = {e["user_id"] for e in many_events}
    purchases = [e for e in many_events if e["event_type"] == EventType.PURCHASE]
    payers = {e["user_id"] for e in purchases}
    assert 0 < len(payers) < 0.2 * len(users)
    prices = Counter(e["parameters"]["price_usd"] for e in purchases)
    assert prices[0.0] > 0 and set(prices) <= {0.0, 0.99, 4.99, 9.99, 19.99}
    assert {e["parameters"]["currency"] for e in purchases} == {"USD"}


def test_players_are_diverse(many_events):
    assert set(Counter(e["platform"] for e in many_events)) == {"ios", "android", "web"}
    assert len({e.get("country") for e in many_events}) > 20
    assert any("country" not in e for e in many_events), "some clients send no country"
    assert any("ip_address" in e for e in many_events)


def test_volume_is_as_documented(many_events):
    per_player_day = len(many_events) / (1000 * 3)
    assert APPROX_EVENTS_PER_PLAYER_DAY / 2 < per_player_day < APPROX_EVENTS_PER_PLAYER_DAY * 2


def test_cli_writes_ndjson_messages(tmp_path, capsys, events):
    out = tmp_path / "messages.ndjson"
    argv = ["--seed", str(SEED), "--start-date", str(START), "--days", str(DAYS), "--players", str(PLAYERS)]
    assert cli([*argv, "--format", "json", "--bad-rate", "0.02", "--to", "ndjson", "--output", str(out)]) == 0
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    valid = [json.loads(m["value"]) for m in lines if "planted_reason" not in m]
    assert valid == events
    summary = json.loads(capsys.readouterr().err)
    assert summary["valid"] == len(events) and summary["bad"] == len(lines) - len(events) > 0
