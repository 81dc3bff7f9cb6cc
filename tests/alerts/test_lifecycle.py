"""The alert lifecycle with a faked clock (pure: no server): fires once, no repeat while it keeps firing, a
reminder every N hours, resolves once, and a later firing is a new notification."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from game_analytics.health.lifecycle import EXPIRED, FIRING, RESOLVED, advance, notification_id, subject_day
from game_analytics.health.rules import Rule

LAG = Rule("high_kafka_lag", "kafka_lag_messages", 100.0, "critical", "Ingestion is behind", "p{subject}: {value:.0f}")
CHECK = Rule("check_failed", "failed_checks", 0.0, "high", "A check failed", "{subject}: {value:.0f}")
# A Monday 00:30 UTC on the 1st of a month, in a leap year's February-March turn: nothing depends on the hour.
T0 = datetime(2024, 3, 1, 0, 30, tzinfo=UTC)


@dataclass(frozen=True)
class M:
    metric: str
    subject: str
    value: float


class Clock:
    """Runs the lifecycle step after step, keeping the states like the store would."""

    def __init__(self, reminder_hours=4.0, rules=(LAG,)):
        self.states: dict = {}
        self.sent: list = []
        self.reminder_hours = reminder_hours
        self.rules = rules

    def at(self, now, *measurements):
        step = advance(self.rules, measurements, self.states.values(), now, self.reminder_hours, lambda r: r.name)
        self.states.update({(s.rule, s.subject): s for s in step.states})
        self.sent.extend(step.notifications)
        return step


def kinds(notifications):
    return [(n.subject, n.kind) for n in notifications]


def test_fires_once_keeps_quiet_reminds_resolves_once_and_refires_as_new():
    clock = Clock(reminder_hours=4)
    clock.at(T0, M("kafka_lag_messages", "0", 50))
    assert clock.sent == [] and clock.states == {}  # healthy subjects get no row
    fired = clock.at(T0 + timedelta(minutes=5), M("kafka_lag_messages", "0", 500), M("kafka_lag_messages", "1", 5))
    assert kinds(fired.notifications) == [("0", "firing")]
    first = fired.notifications[0]
    assert first.notification_id == f"high_kafka_lag|0|{(T0 + timedelta(minutes=5)).isoformat()}|firing"
    assert (first.severity, first.summary, first.message, first.runbook_url) == (
        "critical",
        "Ingestion is behind",
        "p0: 500",
        "high_kafka_lag",
    )
    for minutes in range(10, 4 * 60 + 5, 5):  # still firing for almost 4 h: quiet
        assert clock.at(T0 + timedelta(minutes=minutes), M("kafka_lag_messages", "0", 900)).notifications == []
    assert clock.states[("high_kafka_lag", "0")].value == 900
    reminder = clock.at(T0 + timedelta(minutes=4 * 60 + 5), M("kafka_lag_messages", "0", 900)).notifications
    assert kinds(reminder) == [("0", "reminder")] and reminder[0].notification_id.endswith("|reminder|1")
    assert clock.at(T0 + timedelta(minutes=4 * 60 + 10), M("kafka_lag_messages", "0", 900)).notifications == []
    resolved = clock.at(T0 + timedelta(hours=5), M("kafka_lag_messages", "0", 100)).notifications  # 100 is not > 100
    assert kinds(resolved) == [("0", "resolved")] and resolved[0].notification_id == first.notification_id.replace(
        "|firing", "|resolved"
    )
    assert clock.states[("high_kafka_lag", "0")].status == RESOLVED
    assert clock.at(T0 + timedelta(hours=6), M("kafka_lag_messages", "0", 10)).notifications == []
    again = clock.at(T0 + timedelta(hours=7), M("kafka_lag_messages", "0", 101)).notifications
    assert kinds(again) == [("0", "firing")] and again[0].notification_id != first.notification_id
    assert len({n.notification_id for n in clock.sent}) == len(clock.sent) == 4


def test_reminders_are_numbered_by_whole_intervals_and_zero_means_never():
    clock = Clock(reminder_hours=1)
    clock.at(T0, M("kafka_lag_messages", "2", 500))
    clock.at(T0 + timedelta(minutes=150), M("kafka_lag_messages", "2", 500))  # a late health run: one reminder
    clock.at(T0 + timedelta(minutes=215), M("kafka_lag_messages", "2", 500))
    assert [n.notification_id.rsplit("|", 2)[-2:] for n in clock.sent[1:]] == [["reminder", "2"], ["reminder", "3"]]
    never = Clock(reminder_hours=0)
    for hours in range(0, 48):
        never.at(T0 + timedelta(hours=hours), M("kafka_lag_messages", "2", 500))
    assert kinds(never.sent) == [("2", "firing")]


def test_a_subject_no_longer_measured_resolves_once():
    clock = Clock(rules=(CHECK,))
    subject = "level_metrics.not_null@2024-02-29"
    clock.at(T0, M("failed_checks", subject, 3))
    clock.at(T0 + timedelta(minutes=5))  # the check passed on re-run: it has no measurement any more
    clock.at(T0 + timedelta(minutes=10))
    assert kinds(clock.sent) == [(subject, FIRING), (subject, RESOLVED)]
    assert "no longer reports" in clock.sent[1].message


def test_the_same_step_twice_gives_the_same_ids_and_an_older_instant_changes_nothing():
    clock = Clock()
    step = clock.at(T0, M("kafka_lag_messages", "0", 500))
    assert clock.at(T0, M("kafka_lag_messages", "0", 500)).notifications == []  # re-run of the same instant
    recomputed = advance([LAG], [M("kafka_lag_messages", "0", 500)], [], T0, 4, lambda r: r.name)
    assert [n.notification_id for n in recomputed.notifications] == [n.notification_id for n in step.notifications]
    stale = clock.at(T0 - timedelta(minutes=5), M("kafka_lag_messages", "0", 1))
    assert stale.states == [] and stale.notifications == []
    assert notification_id("r", "", T0, "reminder", 2) == f"r||{T0.isoformat()}|reminder|2"


def test_a_partial_evaluation_resolves_nothing_it_did_not_measure():
    clock = Clock(rules=(CHECK,))
    clock.at(T0, M("failed_checks", "a@2024-02-29", 1), M("failed_checks", "b@2024-02-29", 1))
    partial = advance([CHECK], [M("failed_checks", "a@2024-02-29", 0)], clock.states.values(), T0 + timedelta(1), 4,
                      resolve_unmeasured=False)  # fmt: skip
    assert kinds(partial.notifications) == [("a@2024-02-29", RESOLVED)]


def test_a_failure_that_leaves_the_horizon_unfixed_expires_and_is_never_called_resolved():
    """Issue 18: a day's failed check that nobody fixed stops being measured when it gets older than the horizon; it
    used to resolve then. It expires instead (one notification saying it is not fixed), stays expired, and a
    measurement of it again (a wider horizon) fires or resolves it like any other subject."""
    old, recent = "level_metrics.rates_in_unit_interval@2024-01-30", "level_metrics.volume@2024-02-27"
    states: dict = {}

    def at(now, horizon_start, *measurements):
        step = advance([CHECK], measurements, states.values(), now, 4.0, horizon_start=horizon_start)
        states.update({(s.rule, s.subject): s for s in step.states})
        return step

    fired = at(T0, date(2024, 1, 30), M("failed_checks", old, 3), M("failed_checks", recent, 1))
    assert kinds(fired.notifications) == [(old, FIRING), (recent, FIRING)]
    # The next day the horizon starts after the old day: neither subject is measured (recent was fixed by a re-run).
    step = at(T0 + timedelta(days=1), date(2024, 1, 31))
    assert kinds(step.notifications) == [(old, EXPIRED), (recent, RESOLVED)]
    assert states[("check_failed", old)].status == EXPIRED and states[("check_failed", old)].resolved_at is None
    assert "not fixed" in step.notifications[0].message and "GA_ALERT_HORIZON_DAYS" in step.notifications[0].message
    assert at(T0 + timedelta(days=2), date(2024, 2, 1)).notifications == []  # stays expired, quietly
    # The horizon widened and the day is measured again: still failing fires; then fixed resolves.
    refired = at(T0 + timedelta(days=3), date(2024, 1, 1), M("failed_checks", old, 3))
    assert kinds(refired.notifications) == [(old, FIRING)]
    assert kinds(at(T0 + timedelta(days=4), date(2024, 1, 1), M("failed_checks", old, 0)).notifications) == [
        (old, RESOLVED)
    ]
    # Without a horizon (or a subject that is not about a day), an unmeasured subject resolves as before.
    assert subject_day(old) == date(2024, 1, 30) and subject_day("game_analytics_daily@2024-02-29") == date(2024, 2, 29)
    assert (
        subject_day("2024-02-29") == date(2024, 2, 29)
        and subject_day("3") is None
        and subject_day("x@2024-02-30") is None
    )


def test_a_warning_expires_listed_but_without_a_notification():
    """A warned check is rarely "fixed": when its day leaves the horizon it expires quietly (the page lists it)."""
    warned = Rule("check_warned", "warned_checks", 0.0, "warning", "A check warned", "{subject}: {value:.0f}")
    subject = "level_metrics.volume@2024-01-30"
    first = advance([warned], [M("warned_checks", subject, 2)], [], T0, 4.0, horizon_start=date(2024, 1, 30))
    later = advance([warned], [], first.states, T0 + timedelta(days=1), 4.0, horizon_start=date(2024, 1, 31))
    assert kinds(first.notifications) == [(subject, FIRING)] and later.notifications == []
    assert [s.status for s in later.states] == [EXPIRED]
