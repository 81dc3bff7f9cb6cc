"""The alert lifecycle, as a pure function: previous states + latest measurements + now -> new states + notifications.

Why pure: whether a notification is due is the whole guarantee ("once when it fires, at most a reminder every N
hours, once when it resolves"), so it is decided here without I/O and tested with a faked clock; the store
(health/alert_store.py) persists the result and delivers it.

Per rule and subject, on the subject's latest measurement:

- no state (or resolved) and value > threshold: it starts firing -> ``firing`` notification, ``fired_at = now``;
- firing and still > threshold: no notification, except a ``reminder`` when ``reminder_hours`` (> 0) have passed
  since the last notification;
- firing and value <= threshold, or the subject is not measured any more (a check that passed on re-run, a day
  whose metrics are now complete): ``resolved`` notification;
- firing, not measured, and its subject names a day older than the horizon (``horizon_start``: the measurements
  cover the days from it on, GA_ALERT_HORIZON_DAYS): nobody fixed it, it only left the measured days, so it is
  not resolved: ``expired`` (one notification saying so, none for a warning; the health page lists them). An
  expired subject measured again (the horizon widened) fires again or resolves like any other.

Notification ids are deterministic, ``<rule>|<subject>|<fired_at iso>|<kind>[|<n>]`` (n: the reminder's number,
whole reminder intervals since fired_at), so computing the same step twice gives the same ids and the outbox stores
each once. A state updated after ``now`` is left alone (an older instant re-run never rewinds the lifecycle). States
of rules that are no longer in alerts.yaml are left as they are.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta

from game_analytics.health.rules import Rule

FIRING, RESOLVED, EXPIRED = "firing", "resolved", "expired"  # alert_state.status, and notification kinds
REMINDER = "reminder"  # the fourth notification kind
# A subject about one day: "<day>" (daily_metrics_late), "<table>.<check>@<day>", "<dag>@<day>" (the daily DAG).
_SUBJECT_DAY = re.compile(r"(?:^|@)(\d{4}-\d{2}-\d{2})$")


def subject_day(subject: str) -> date | None:
    """The day a subject is about, or None for a subject that is not about a day (a partition, a DAG, a reason)."""
    found = _SUBJECT_DAY.search(subject)
    if found is None:
        return None
    try:
        return date.fromisoformat(found.group(1))
    except ValueError:
        return None


@dataclass(frozen=True)
class AlertState:
    """One row of ``alert_state``."""

    rule: str
    subject: str
    status: str
    severity: str | None
    value: float | None
    threshold: float | None
    message: str | None
    fired_at: datetime | None
    resolved_at: datetime | None
    last_notified_at: datetime | None
    updated_at: datetime


@dataclass(frozen=True)
class Notification:
    """One row of ``alert_notifications`` (``summary`` is the rule's, not stored: the store reads it from the rule)."""

    notification_id: str
    rule: str
    subject: str
    kind: str
    severity: str
    summary: str
    message: str
    runbook_url: str
    created_at: datetime


@dataclass(frozen=True)
class Step:
    states: list[AlertState]  # the states this step changed (to persist), in rule then subject order
    notifications: list[Notification]  # to persist, then deliver

    @property
    def firing(self) -> list[AlertState]:
        return [s for s in self.states if s.status == FIRING]


def notification_id(rule: str, subject: str, fired_at: datetime, kind: str, n: int | None = None) -> str:
    return "|".join([rule, subject, fired_at.isoformat(), kind, *([str(n)] if n is not None else [])])


def latest_values(measurements: Iterable) -> dict[tuple[str, str], float]:
    """(metric, subject) -> value of the last measurement given for it (duck-typed: .metric .subject .value)."""
    return {(m.metric, m.subject): float(m.value) for m in measurements if m.value is not None}


def advance(
    rules: Iterable[Rule],
    measurements: Iterable,
    states: Iterable[AlertState],
    now: datetime,
    reminder_hours: float,
    runbook_url: Callable[[Rule], str] = lambda rule: "",
    resolve_unmeasured: bool = True,
    horizon_start: date | None = None,
) -> Step:
    """One evaluation at ``now`` (timezone-aware). Returns the changed states and the notifications to send.

    ``resolve_unmeasured=False`` evaluates only the subjects measured (a partial evaluation, e.g. one day's
    deadline callback): a firing subject without a measurement is then left as it is instead of resolved.
    ``horizon_start``: the first day the measurements cover; an unmeasured firing subject about an earlier day
    expires instead of resolving.
    """
    values = latest_values(measurements)
    previous = {(s.rule, s.subject): s for s in states}
    reminder_every = timedelta(hours=reminder_hours) if reminder_hours > 0 else None
    changed: list[AlertState] = []
    notifications: list[Notification] = []
    for rule in rules:
        measured = {subject: value for (metric, subject), value in values.items() if metric == rule.metric}
        watched = {
            subject
            for (name, subject), s in previous.items()
            if resolve_unmeasured and name == rule.name and s.status == FIRING
        }
        for subject in sorted(set(measured) | watched):
            state = previous.get((rule.name, subject))
            if state is not None and state.updated_at > now:
                continue  # already evaluated at a later instant
            value = measured.get(subject)
            day = subject_day(subject)
            if value is None and horizon_start is not None and day is not None and day < horizon_start:
                new_state, kind = _expired(rule, state, now, horizon_start)
            else:
                new_state, kind = _next(rule, subject, value, state, now, reminder_every)
            if new_state is None:
                continue
            changed.append(new_state)
            if kind is not None:
                notifications.append(_notification(rule, new_state, kind, now, reminder_every, runbook_url(rule)))
    return Step(changed, notifications)


def _next(
    rule: Rule,
    subject: str,
    value: float | None,
    state: AlertState | None,
    now: datetime,
    reminder_every: timedelta | None,
) -> tuple[AlertState | None, str | None]:
    """The subject's next state (None: unchanged, nothing to write) and the kind of notification it sends."""
    firing = state is not None and state.status == FIRING
    if value is not None and rule.fires(value):
        message = rule.render(subject, value)
        if not firing:  # new, resolved, or expired and measured again (the horizon widened): it starts firing
            started = AlertState(
                rule.name, subject, FIRING, rule.severity, value, rule.threshold, message, now, None, now, now
            )
            return started, FIRING
        due = reminder_every is not None and now - (state.last_notified_at or state.fired_at) >= reminder_every
        kept = replace(
            state,
            severity=rule.severity,
            value=value,
            threshold=rule.threshold,
            message=message,
            last_notified_at=now if due else state.last_notified_at,
            updated_at=now,
        )
        return kept, REMINDER if due else None
    if not firing and (state is None or state.status != EXPIRED):
        return None, None  # healthy and not firing: no row for every healthy subject (an expired one resolves)
    message = (
        f"resolved: {rule.metric}{f' of {subject}' if subject else ''} is {value:g} (threshold {rule.threshold:g})"
        if value is not None
        else f"resolved: {rule.metric} no longer reports {subject or 'a value'}"
    )
    resolved = replace(
        state, status=RESOLVED, value=value, threshold=rule.threshold, message=message, resolved_at=now, updated_at=now
    )
    return resolved, RESOLVED


def _expired(rule: Rule, state: AlertState, now: datetime, horizon_start: date) -> tuple[AlertState, str]:
    message = (
        f"expired, not fixed: {state.subject} is older than the horizon (days from {horizon_start} on are watched, "
        f"GA_ALERT_HORIZON_DAYS); it stops notifying and stays listed on the health page. Last: {state.message}"
    )
    expired = replace(state, status=EXPIRED, message=message, resolved_at=None, updated_at=now)
    # A warning (a warned check) is rarely "fixed": it expires listed on the page, without a notification.
    return expired, (None if rule.severity == "warning" else EXPIRED)


def _notification(
    rule: Rule, state: AlertState, kind: str, now: datetime, reminder_every: timedelta | None, runbook_url: str
) -> Notification:
    n = None
    message = state.message or ""
    if kind == REMINDER:
        n = math.floor((now - state.fired_at) / reminder_every)
        message = f"still firing since {state.fired_at.isoformat()}: {message}"
    return Notification(
        notification_id=notification_id(rule.name, state.subject, state.fired_at, kind, n),
        rule=rule.name,
        subject=state.subject,
        kind=kind,
        severity=rule.severity,
        summary=rule.summary,
        message=message,
        runbook_url=runbook_url,
        created_at=now,
    )
