"""The four headline tiles of the health page (and of its JSON API): value, status colour, detail.

Colour comes from the alert rule that watches the tile's measurement (alerts.yaml, with its GA_* override), so the
page turns red exactly when the alert fires: red when ``value > threshold`` (the rule's condition), amber when the
value is above ``AMBER_SHARE`` of the threshold (getting close), green otherwise, grey when there is no
measurement, and "no data yet" (grey) when the health run measured no value because ingestion has never
succeeded (an empty stack: health/measure.py; no rule fires on it). The events/s tile has no rule of its own: it
takes its colour from ``ingestion_stalled`` (events/s of a run that ended long ago says nothing about now). No
Airflow import: page.py and app.py share it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from game_analytics.health.rules import Rule
from game_analytics.health.snapshot import HealthSnapshot

AMBER_SHARE = 0.5
GREEN, AMBER, RED, UNKNOWN, NO_DATA_YET = "green", "amber", "red", "unknown", "waiting"
STATUS_WORDS = {
    GREEN: "OK",
    AMBER: "near threshold",
    RED: "over threshold",
    UNKNOWN: "no data",
    NO_DATA_YET: "no data yet",
}
NO_DATA_YET_NOTE = "no ingestion run has succeeded yet: nothing to alert on"


def status_of(value: float | None, rule: Rule | None) -> str:
    if value is None or rule is None:
        return UNKNOWN
    if rule.fires(value):
        return RED
    if value > rule.threshold * AMBER_SHARE:
        return AMBER
    return GREEN


def no_data_yet(snapshot: HealthSnapshot, metric: str) -> bool:
    """The newest health run measured ``metric`` without a value: ingestion has never succeeded."""
    values = snapshot.values(metric)
    return "" in values and values[""] is None


def format_count(value: float | None) -> str:
    return "–" if value is None else f"{value:,.0f}"


def format_rate(value: float | None) -> str:
    return "–" if value is None else f"{value:,.1f}"


def format_share(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.2f} %"


def format_duration(seconds: float | None) -> str:
    """``75`` -> ``1 min 15 s``; ``7300`` -> ``2 h 1 min``; ``200000`` -> ``2 d 7 h``."""
    if seconds is None:
        return "–"
    whole = int(round(seconds))
    for unit, size, sub_unit, sub_size in (("d", 86400, "h", 3600), ("h", 3600, "min", 60), ("min", 60, "s", 1)):
        if whole >= size:
            rest = (whole % size) // sub_size
            return f"{whole // size} {unit}" + (f" {rest} {sub_unit}" if rest else "")
    return f"{whole} s"


@dataclass
class Tile:
    key: str  # the measurement shown (a METRICS name)
    title: str
    value: float | None
    text: str  # the value as displayed
    status: str
    rule: Rule | None  # the rule the colour comes from
    status_value: float | None  # the value the rule is applied to
    note: str = ""
    details: list[tuple[str, str]] = field(default_factory=list)  # (label, value) lines under the value

    @property
    def threshold_text(self) -> str:
        if self.rule is None:
            return ""
        return f"{self.rule.name}: > {_threshold_text(self.rule)}"

    def to_dict(self) -> dict:
        return {
            "metric": self.key,
            "title": self.title,
            "value": self.value,
            "text": self.text,
            "status": self.status,
            "rule": self.rule.name if self.rule else None,
            "threshold": self.rule.threshold if self.rule else None,
            "status_value": self.status_value,
            "note": self.note,
            "details": [{"label": label, "value": value} for label, value in self.details],
        }


def _threshold_text(rule: Rule) -> str:
    formats = {"dlq_rate": format_share, "freshness_seconds": format_duration}
    formats["seconds_since_successful_ingestion"] = format_duration
    return formats.get(rule.metric, format_count)(rule.threshold)


def _by_partition(values: dict[str, float | None]) -> list[tuple[str, float | None]]:
    return sorted(values.items(), key=lambda item: (len(item[0]), item[0]))  # "2" before "10"


def build_tiles(snapshot: HealthSnapshot, rules: dict[str, Rule]) -> list[Tile]:
    """events/s, Kafka lag, DLQ rate, freshness: in that order."""
    since_ingestion = snapshot.value("seconds_since_successful_ingestion")
    rate = snapshot.value("events_per_second")
    stalled = rules.get("ingestion_stalled")
    events = Tile(
        "events_per_second",
        "Events / s",
        rate,
        format_rate(rate),
        status_of(since_ingestion, stalled),
        stalled,
        since_ingestion,
        note=f"last ingestion run; it ended {format_duration(since_ingestion)} ago",
    )
    if no_data_yet(snapshot, "seconds_since_successful_ingestion"):
        events.text, events.status, events.note = STATUS_WORDS[NO_DATA_YET], NO_DATA_YET, NO_DATA_YET_NOTE

    lags = snapshot.values("kafka_lag_messages")
    lag_seconds = snapshot.values("kafka_lag_seconds")
    known = [v for v in lags.values() if v is not None]
    max_lag = max(known) if known else None
    lag_rule = rules.get("high_kafka_lag")
    lag = Tile(
        "kafka_lag_messages",
        "Kafka lag (messages)",
        max_lag,
        format_count(max_lag),
        status_of(max_lag, lag_rule),
        lag_rule,
        max_lag,
        note=f"max over {len(lags)} partitions",
        details=[
            (f"p{p}", f"{format_count(v)} · {format_duration(lag_seconds.get(p))}") for p, v in _by_partition(lags)
        ],
    )

    dlq_rate = snapshot.value("dlq_rate")
    dlq_rule = rules.get("high_dlq_rate")
    reasons = snapshot.values("dead_lettered_24h")
    dlq = Tile(
        "dlq_rate",
        "DLQ rate",
        dlq_rate,
        format_share(dlq_rate),
        status_of(dlq_rate, dlq_rule),
        dlq_rule,
        dlq_rate,
        note="dead-lettered / consumed, last ingestion runs",
        details=[(reason, format_count(n)) for reason, n in sorted(reasons.items(), key=lambda kv: -(kv[1] or 0))],
    )

    freshness = snapshot.value("freshness_seconds")
    fresh_rule = rules.get("data_freshness")
    fresh = Tile(
        "freshness_seconds",
        "Freshness",
        freshness,
        format_duration(freshness),
        status_of(freshness, fresh_rule),
        fresh_rule,
        freshness,
        note="since the newest event reached the warehouse",
    )
    if no_data_yet(snapshot, "freshness_seconds"):
        fresh.text, fresh.status, fresh.note = STATUS_WORDS[NO_DATA_YET], NO_DATA_YET, NO_DATA_YET_NOTE
    return [events, lag, dlq, fresh]
