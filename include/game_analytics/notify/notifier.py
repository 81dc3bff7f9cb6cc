"""The pipeline's Airflow Notifier (Airflow layer): one notification through the channels GA_ALERT_CHANNELS names.

Channels: ``webhook`` (JSON POST to GA_ALERT_WEBHOOK_URL; the local stack's receiver), ``slack`` (the Slack
provider's SlackWebhookHook on the connection GA_SLACK_WEBHOOK_CONN_ID: its password is the webhook token or
URL, never in the repository) and ``email`` (the SMTP provider's SmtpHook on GA_SMTP_CONN_ID, to
GA_ALERT_EMAIL_TO). Every configured channel is tried; if any failed, one DeliveryError names them all, so the
health run keeps the notification pending and sends it again on its next run (to every channel: a channel that
took it the first time sees it twice, with the same notification_id).

Two users: the health task's :func:`deliver` (alerts of alerts.yaml, from the outbox) and the pipeline DAGs'
failure notifier (health/dag_callbacks.py), which fires ``airflow_dag_failed`` through the alert lifecycle and
sends through :func:`send`. This package imports nothing from health/: alerts depend on delivery, not back.
"""

from __future__ import annotations

import html
import logging

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


class PipelineNotifier(BaseNotifier):
    """Sends ``body`` (a channels.payload) through every configured channel."""

    def __init__(self, body: dict, settings: Settings | None = None):
        super().__init__()
        self.body = body
        self.settings = settings

    def notify(self, context) -> None:
        send(self.settings or load_settings(), self.body)


def deliver(body: dict, settings: Settings | None = None) -> None:
    """What the health task passes to evaluate_alerts: one outbox notification through the notifier."""
    PipelineNotifier(body, settings).notify({})
