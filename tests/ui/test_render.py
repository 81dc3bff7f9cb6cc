"""Rendering without servers: tile colours from the alert thresholds, the chart's axis, the runbook anchors, the
Prometheus exposition, and that warehouse text cannot inject markup into the page."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from prometheus_client.parser import text_string_to_metric_families

from game_analytics.health.metrics import METRICS
from game_analytics.health.rules import load_rules
from game_analytics.health.snapshot import CheckResult, FiringAlert, HealthSnapshot, HourVolume
from game_analytics.health_ui.page import render_page, summary
from game_analytics.health_ui.prometheus import exposition
from game_analytics.health_ui.runbooks import render_runbooks, runbooks_file
from game_analytics.health_ui.svg import axis_ticks, volume_chart
from game_analytics.health_ui.tiles import AMBER, GREEN, RED, UNKNOWN, build_tiles, format_duration, status_of

NOW = datetime(2028, 2, 29, 0, 30, tzinfo=UTC)
RULES = {rule.name: rule for rule in load_rules(environ={})}


@pytest.mark.parametrize(
    ("value", "status"),
    [(None, UNKNOWN), (0.0, GREEN), (50_000.0, GREEN), (50_001.0, AMBER), (100_000.0, AMBER), (100_001.0, RED)],
)
def test_a_tile_is_red_exactly_when_its_alert_fires(value, status):
    rule = RULES["high_kafka_lag"]
    assert status_of(value, rule) == status
    assert (status == RED) == (value is not None and rule.fires(value))


def test_a_threshold_override_moves_the_colour():
    lowered = {r.name: r for r in load_rules(environ={"GA_ALERT_HIGH_KAFKA_LAG_THRESHOLD": "10"})}
    snapshot = HealthSnapshot(NOW, NOW, {"kafka_lag_messages": {"0": 11.0, "1": 2.0}})
    lag = next(t for t in build_tiles(snapshot, lowered) if t.key == "kafka_lag_messages")
    assert (lag.value, lag.status) == (11.0, RED)
    assert next(t for t in build_tiles(snapshot, RULES) if t.key == "kafka_lag_messages").status == GREEN


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0 s"), (59.6, "1 min"), (75, "1 min 15 s"), (7300, "2 h 1 min"), (200000, "2 d 7 h")]
)
def test_durations_read_as_people_say_them(seconds, text):
    assert format_duration(seconds) == text


@pytest.mark.parametrize(
    ("highest", "ticks"), [(0, [0, 1]), (7, [0, 2, 4, 6, 8]), (2170, [0, 500, 1000, 1500, 2000, 2500])]
)
def test_the_chart_axis_has_round_ticks_above_the_highest_bar(highest, ticks):
    assert axis_ticks(highest) == ticks


def test_the_chart_has_a_bar_segment_per_hour_and_group_and_a_legend():
    hours = [NOW.replace(minute=0) - timedelta(hours=n) for n in range(24, -1, -1)]
    volume = [HourVolume(h, g, 10 + i) for i, h in enumerate(hours) for g in ("level", "session")]
    svg = volume_chart(hours, volume)
    assert svg.count("data-events=") == 50 and svg.count("<title>") == 50
    assert ">level</text>" in svg and ">session</text>" in svg and "events / hour" in svg
    assert "no events" in volume_chart(hours, [])


def test_every_rule_has_a_runbook_anchor(settings):
    assert runbooks_file(settings).is_file(), "docs/runbooks.md is next to sql/"
    html = render_runbooks(settings, list(RULES.values()), "/pipeline-health/")
    for name in RULES:
        assert f'<h2 id="{name}">' in html


def test_warehouse_text_cannot_inject_markup():
    evil = "<script>alert(1)</script>"
    snapshot = HealthSnapshot(NOW, NOW, {"dead_lettered_24h": {evil: 1.0}})
    snapshot.run_days = [date(2028, 2, 28)]
    snapshot.checks = [CheckResult(date(2028, 2, 28), "t", evil, "warn", "warn", evil, 1, [{"v": evil}])]
    snapshot.alerts = [FiringAlert("check_warned", evil, "warning", 1.0, 0.0, evil, NOW)]
    snapshot.expired = [FiringAlert("check_failed", evil, "high", 1.0, 0.0, evil, NOW)]
    html = render_page(snapshot, RULES, "/pipeline-health")
    assert "<script" not in html and "&lt;script&gt;" in html


def test_expired_alerts_are_listed_apart_from_the_firing_ones_and_in_the_json():
    subject = "level_metrics.volume@2028-01-15"
    snapshot = HealthSnapshot(NOW, NOW, {})
    assert "data-expired-count" not in render_page(snapshot, RULES, "/pipeline-health")  # nothing expired: no list
    snapshot.expired = [FiringAlert("check_failed", subject, "high", 3.0, 0.0, "expired, not fixed: ...", NOW)]
    html = render_page(snapshot, RULES, "/pipeline-health")
    assert 'data-expired-count="1"' in html and f'data-expired="check_failed" data-subject="{subject}"' in html
    assert 'data-alerts="0"' in html  # not among the alerts firing now
    body = summary(snapshot, RULES)
    assert body["alerts_expired"] == [
        {"rule": "check_failed", "subject": subject, "message": "expired, not fixed: ...", "fired_at": NOW.isoformat()}
    ]
    assert body["alerts_firing"] == []


def test_the_summary_and_the_page_agree_on_the_tiles():
    snapshot = HealthSnapshot(NOW, NOW, {"dlq_rate": {"": 0.02}, "freshness_seconds": {"": 10.0}})
    tiles = {t["metric"]: t for t in summary(snapshot, RULES)["tiles"]}
    assert tiles["dlq_rate"]["status"] == RED and tiles["freshness_seconds"]["status"] == GREEN
    assert tiles["events_per_second"]["status"] == UNKNOWN
    html = render_page(snapshot, RULES, "/pipeline-health")
    assert 'data-tile="dlq_rate" data-status="red"' in html


def test_the_exposition_has_every_measurement_with_its_label_and_the_firing_alerts():
    measurements = {name: ({"": 1.5} if not m.label else {"a": 2.0, "b": 3.0}) for name, m in METRICS.items()}
    snapshot = HealthSnapshot(NOW, NOW, measurements)
    snapshot.alerts = [FiringAlert("high_dlq_rate", "", "warning", 0.02, 0.01, "", NOW)]
    families = {f.name: f for f in text_string_to_metric_families(exposition(snapshot).decode())}
    for name, metric in METRICS.items():
        samples = families[f"game_analytics_{name}"].samples
        if metric.label:
            assert {(s.labels[metric.label], s.value) for s in samples} == {("a", 2.0), ("b", 3.0)}
        else:
            assert [(s.labels, s.value) for s in samples] == [({}, 1.5)]
    firing = families["game_analytics_alert_firing"].samples
    assert [(s.labels, s.value) for s in firing] == [
        ({"rule": "high_dlq_rate", "subject": "", "severity": "warning"}, 1.0)
    ]
    assert families["game_analytics_health_measured_timestamp_seconds"].samples[0].value == NOW.timestamp()


def test_no_measurement_is_no_sample_not_a_zero():
    families = {f.name for f in text_string_to_metric_families(exposition(HealthSnapshot(NOW, None)).decode())}
    assert (
        "game_analytics_dlq_rate" not in families and "game_analytics_health_measured_timestamp_seconds" not in families
    )
