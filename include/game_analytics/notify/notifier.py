"""The pipeline's Airflow Notifier (Airflow layer): one notification through the channels GA_ALERT_CHANNELS names.

Channels: ``webhook`` (JSON POST to GA_ALERT_WEBHOOK_URL; the local stack's receiver), ``slack`` (the Slack
provider's SlackWebhookHook on the connection GA_SLACK_WEBHOOK_CONN_ID: its password is the webhook token or
URL, never in the repository) and ``email`` (the SMTP provider's SmtpHook on GA_SMTP_CONN_ID, to
GA_ALERT_EMAIL_TO). Every configured channel is tried; if any failed, one DeliveryError names them all, so the
health run keeps the notification pending and sends it again on its next run (to every channel: a channel that
took it the first time sees it twice, with the same notification_id).

Two users: the health task's :func:`deliver` (alerts of alerts.yaml, from the outbox) and
:func:`dag_failure_notifier`, the ``on_failure_callback`` of the pipeline DAGs. Airflow runs DAG callbacks in the
dag-processor, synchronously, with the run's context (``dag``, ``run_id``, ``dag_run``, ``reason``, ...): that is
:meth:`BaseNotifier.notify` (Airflow 3.3 calls ``notifier(context)``).
"""

from __future__ import annotations

import html
import logging
from datetime import UTC, datetime

from airflow.sdk import BaseNotifier

from game_analytics.config import Settings, load_settings
from game_analytics.notify.channels import (
    DeliveryError,
    configured_channels,
    post_webhook,
    text,
    title,
)

log = logging.getLogger(__name__)

DAG_FAILURE_RULE = "airflow_dag_failed"  # the alerts.yaml rule whose severity, summary and runbook it borrows
SLACK_TIMEOUT_SECONDS = 10


def _slack(settings: Settings, body: dict) -> None:
    from airflow.providers.slack.hooks.slack_webhook import SlackWebhookHook

    hook = SlackWebhookHook(slack_webhook_conn_id=settings.slack_webhook_conn_id, timeout=SLACK_TIMEOUT_SECONDS)
    hook.send(text=text(body))


def _email(settings: Settings, body: dict) -> None:
    from airflow.providers.smtp.hooks.smtp import SmtpHook

    if not settings.alert_email_to.strip():
        raise DeliveryError("the email channel is configured but GA_ALERT_EMAIL_TO is empty")
    content = "<pre>" + html.escape(text(body)) + "</pre>"
    with SmtpHook(smtp_conn_id=settings.smtp_conn_id) as hook:
        hook.send_email_smtp(to=settings.alert_email_to, subject=title(body), html_content=content)


SENDERS = {"webhook": post_webhook, "slack": _slack, "email": _email}


def send(settings: Settings, body: dict) -> None:
    """Send one payload through every configured channel; raise one DeliveryError naming each that failed."""
    channels = configured_channels(settings)
    if not channels:
        log.warning("GA_ALERT_CHANNELS is empty: notification logged only: %s", text(body))
        return
    errors = []
    for channel in channels:
        try:
            SENDERS[channel](settings, body)
        except Exception as exc:  # noqa: BLE001 - try the other channels, then report them all
            errors.append(f"{channel}: {type(exc).__name__}: {exc}")
    if errors:
        raise DeliveryError(f"notification {body['notification_id']} not delivered by " + "; ".join(errors))
    log.info("notification %s sent to %s", body["notification_id"], ", ".join(channels))


def dag_failure_payload(context, settings: Settings, now: datetime | None = None) -> dict:
    """The payload of a DAG run's failure, from a DAG callback's context (id: the run, so a repeat is spotted)."""
    from game_analytics.health.rules import load_rules

    rule = next(r for r in load_rules(settings) if r.name == DAG_FAILURE_RULE)
    dag_id = context["dag"].dag_id
    run_id = context.get("run_id") or getattr(context.get("dag_run"), "run_id", "")
    reason = context.get("reason") or "a task failed"
    ti = context.get("ti")
    failed_task = f"; task {ti.task_id}" if getattr(ti, "task_id", None) else ""
    created = now or datetime.now(UTC)
    return {
        "notification_id": f"{DAG_FAILURE_RULE}|{dag_id}|{run_id}|dag_run_failed",
        "rule": DAG_FAILURE_RULE,
        "subject": dag_id,
        "kind": "firing",
        "severity": rule.severity,
        "summary": rule.summary,
        "message": f"run {run_id} of DAG {dag_id} failed ({reason}{failed_task})",
        "runbook_url": rule.runbook_url(settings),
        "created_at": created.isoformat(),
    }


class PipelineNotifier(BaseNotifier):
    """Sends ``body`` (a channels.payload), or without one the failure of the DAG run in the context."""

    def __init__(self, body: dict | None = None, settings: Settings | None = None):
        super().__init__()
        self.body = body
        self.settings = settings

    def notify(self, context) -> None:
        settings = self.settings or load_settings()
        if self.body is not None:
            send(settings, self.body)
        else:
            fire_dag_failed(context, settings)


def fire_dag_failed(context, settings: Settings, client=None, now: datetime | None = None) -> None:
    """A DAG run failed: ``airflow_dag_failed`` fires for its DAG at once, through the alert lifecycle, so it
    notifies once (nothing while that DAG's alert is already firing) and the health DAG resolves it after a
    successful run. The alert state lives in the warehouse: when that cannot be reached, which is also when the
    health DAG fails, the failure is sent directly instead (one notification per failed run)."""
    from game_analytics.health.alert_store import evaluate_alerts
    from game_analytics.health.measure import Measurement
    from game_analytics.health.run import measured_instant
    from game_analytics.warehouse.client import airflow_bigquery_client

    now = measured_instant(now or datetime.now(UTC))
    failed = Measurement("dag_run_failed", context["dag"].dag_id, 1.0)
    try:
        evaluate_alerts(
            client or airflow_bigquery_client(settings),
            settings,
            now,
            [failed],
            lambda body: send(settings, body),
            only_rules={DAG_FAILURE_RULE},
        )
    except Exception:  # noqa: BLE001 - no alert state without the warehouse: never stay silent on a failure
        log.exception("alert state unavailable; sending the failure of %s directly", failed.subject)
        send(settings, dag_failure_payload(context, settings, now))


def deliver(body: dict, settings: Settings | None = None) -> None:
    """What the health task passes to evaluate_alerts: one outbox notification through the notifier."""
    PipelineNotifier(body, settings).notify({})


def dag_failure_notifier() -> PipelineNotifier:
    """The ``on_failure_callback`` of every DAG: the failed run fires ``airflow_dag_failed`` (fire_dag_failed)
    through the same channels as every alert."""
    return PipelineNotifier()
