"""Alerts in the warehouse: their states (``alert_state``) and an outbox of notifications (``alert_notifications``).

:func:`evaluate_alerts` is one health run's alert step, in this order (why it neither loses nor repeats):

1. read the states; 2. compute the lifecycle step (pure, health/lifecycle.py); 3. write the changed states and the
new notifications in ONE transaction (sql/alert_state/record_step.sql): both or neither, so a notification is
never lost (state written, outbox not) nor created twice (outbox written, state not: the next run would fire again
with a new fired_at). Ids are deterministic and an existing id is not inserted again, so re-running an instant
adds nothing; 4. deliver every pending notification (undelivered, created in the last ``PENDING_DAYS`` days),
oldest first, each marked delivered right after its send, so one a killed run had persisted is sent by the next.

A kill before 3 completes changes nothing; after 3, before a send: the next run sends it; after a mark: done. The
one unavoidable window is between a send and its mark: that notification is sent again by the next run (at least
once). Its ``notification_id`` is in the payload, so a receiver can drop the repeat. A failed delivery keeps the
notification pending with its ``delivery_error`` and is retried by the next runs for ``PENDING_DAYS`` days.

Test hook: ``GA_INGEST_CRASH_AT=<point>[@<n>]`` (game_analytics.crash_points) kills the process
at one of :data:`CRASH_POINTS`; inert unless the variable is set.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from game_analytics.config import Settings
from game_analytics.crash_points import crash_point
from game_analytics.health.lifecycle import FIRING, AlertState, Notification, advance
from game_analytics.health.metrics import horizon_start
from game_analytics.health.rules import Rule, load_rules
from game_analytics.notify.channels import payload
from game_analytics.warehouse.client import query_rows
from game_analytics.warehouse.sql_templates import render_sql

log = logging.getLogger(__name__)

PENDING_DAYS = 2  # an undelivered notification is retried for this long (and the outbox look-ups read these days)
CRASH_POINTS = ("alerts_after_record", "alerts_after_send", "alerts_after_mark")
_STATE_FIELDS = tuple(AlertState.__dataclass_fields__)


@dataclass
class AlertRunReport:
    firing: list[AlertState] = field(default_factory=list)  # every alert firing after this run
    created: int = 0  # notifications this run computed (re-runs of an instant compute none)
    delivered: int = 0  # pending notifications sent by this run (its own and any a killed run left)
    failed: int = 0  # pending notifications whose delivery failed (retried by the next run)
    errors: list[str] = field(default_factory=list)


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def read_states(client, settings: Settings) -> list[AlertState]:
    rows = query_rows(client, render_sql("alert_state/read.sql", settings))
    return [AlertState(**{name: row[name] for name in _STATE_FIELDS}) for row in rows]


def record_step(
    client, settings: Settings, now: datetime, states: list[AlertState], notifications: list[Notification]
) -> None:
    """The changed states and the new notifications, in one transaction (nothing to write: no statement)."""
    if not states and not notifications:
        return
    sql = render_sql(
        "alert_state/record_step.sql",
        settings,
        states=[{k: _iso(v) if isinstance(v, datetime) else v for k, v in asdict(s).items()} for s in states],
        notifications=[payload(n) for n in notifications],
        since=_iso(now - timedelta(days=PENDING_DAYS)),
    )
    client.query(sql).result()


def pending(client, settings: Settings, now: datetime, rules: dict[str, Rule]) -> list[Notification]:
    """Undelivered notifications created in the last PENDING_DAYS days, oldest first."""
    since = _iso(now - timedelta(days=PENDING_DAYS))
    rows = query_rows(client, render_sql("alert_notifications/pending.sql", settings, since=since))
    return [
        Notification(
            notification_id=row["notification_id"],
            rule=row["rule"],
            subject=row["subject"],
            kind=row["kind"],
            severity=row["severity"],
            summary=rules[row["rule"]].summary if row["rule"] in rules else row["rule"],
            message=row["message"],
            runbook_url=row["runbook_url"],
            created_at=row["created_at"],
        )
        for row in rows
    ]


def mark(client, settings: Settings, notification: Notification, at: datetime, error: str | None = None) -> None:
    """Record one notification's delivery (``error`` None) or its delivery error (it stays pending)."""
    sql = render_sql(
        "alert_notifications/mark.sql",
        settings,
        notification_id=notification.notification_id,
        created_at=_iso(notification.created_at),
        at=_iso(at),
        error=None if error is None else error[:1000],
    )
    client.query(sql).result()


def evaluate_alerts(
    client,
    settings: Settings,
    now: datetime,
    measurements,
    deliver: Callable[[dict], None],
    environ=None,
    only_rules: Collection[str] | None = None,
) -> AlertRunReport:
    """Advance every rule's lifecycle to ``now``, persist it, then deliver every pending notification.

    ``only_rules``: a partial evaluation (the deadline callback of one day): only these rules, only the subjects
    measured; nothing else resolves for lack of a measurement.
    """
    every_rule = {r.name: r for r in load_rules(settings, environ)}  # pending notifications may be of any rule
    rules = [r for r in every_rule.values() if only_rules is None or r.name in only_rules]
    states = read_states(client, settings)
    step = advance(
        rules,
        measurements,
        states,
        now,
        settings.alert_reminder_hours,
        lambda r: r.runbook_url(settings),
        resolve_unmeasured=only_rules is None,
        horizon_start=horizon_start(now, settings.alert_horizon_days),
    )
    record_step(client, settings, now, step.states, step.notifications)
    crash_point("alerts_after_record")
    now_states = {(s.rule, s.subject): s for s in [*states, *step.states]}  # the step's states replace the read ones
    names = {r.name: r for r in rules}
    report = AlertRunReport(
        firing=[now_states[key] for key in sorted(now_states) if now_states[key].status == FIRING and key[0] in names],
        created=len(step.notifications),
    )
    for notification in pending(client, settings, now, every_rule):
        try:
            deliver(payload(notification))
        except Exception as exc:  # noqa: BLE001 - any channel failure: keep it pending, try the others
            log.warning("notification %s not delivered: %s", notification.notification_id, exc)
            mark(client, settings, notification, now, error=f"{type(exc).__name__}: {exc}")
            report.failed += 1
            report.errors.append(f"{notification.notification_id}: {exc}")
            continue
        crash_point("alerts_after_send")
        mark(client, settings, notification, now)
        crash_point("alerts_after_mark")
        report.delivered += 1
    return report
