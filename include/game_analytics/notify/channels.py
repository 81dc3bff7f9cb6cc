"""What a notification says and how it goes out, without Airflow: the payload, its texts, the webhook POST.

One payload shape for every channel and every sender (an alert of the health DAG, a DAG run's failure), so a
receiver sees the same keys whatever sent it. ``notification_id`` is in the payload because delivery is at least
once: a health run killed between a send and its mark sends that notification again, and a receiver de-duplicates
on the id. The Airflow layer (notifier.py) picks the channels and sends through the providers' hooks.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from datetime import datetime

from game_analytics.config import Settings

CHANNELS = ("webhook", "slack", "email")
WEBHOOK_TIMEOUT_SECONDS = 10.0
PAYLOAD_KEYS = (
    "notification_id", "rule", "subject", "kind", "severity", "summary", "message", "runbook_url", "created_at",
)  # fmt: skip


class DeliveryError(RuntimeError):
    """A channel did not take a notification; the message names the setting to look at."""


def payload(notification) -> dict:
    """The JSON-ready payload of a notification (anything with the PAYLOAD_KEYS attributes, e.g. lifecycle's)."""
    body = {key: getattr(notification, key) for key in PAYLOAD_KEYS}
    if isinstance(body["created_at"], datetime):
        body["created_at"] = body["created_at"].isoformat()
    return body


def configured_channels(settings: Settings) -> list[str]:
    """The channels of GA_ALERT_CHANNELS (a comma list; empty: none, notifications are only logged)."""
    names = [name.strip().lower() for name in settings.alert_channels.split(",") if name.strip()]
    unknown = [name for name in names if name not in CHANNELS]
    if unknown:
        raise ValueError(
            f"GA_ALERT_CHANNELS={settings.alert_channels!r}: unknown channel(s) {unknown} (use {CHANNELS})"
        )
    return names


def title(body: dict) -> str:
    """One line: ``[FIRING critical] high_kafka_lag 3: Ingestion is far behind the raw topic``."""
    subject = f" {body['subject']}" if body.get("subject") else ""
    return f"[{body['kind'].upper()} {body['severity']}] {body['rule']}{subject}: {body['summary']}"


def text(body: dict) -> str:
    """The plain-text body shared by Slack and e-mail: title, message, runbook, id."""
    lines = [title(body), body["message"]]
    if body.get("runbook_url"):
        lines.append(f"Runbook: {body['runbook_url']}")
    lines.append(f"(notification {body['notification_id']}, created {body['created_at']})")
    return "\n".join(lines)


def post_webhook(settings: Settings, body: dict, timeout: float = WEBHOOK_TIMEOUT_SECONDS) -> None:
    """POST the payload as JSON to GA_ALERT_WEBHOOK_URL; any answer but 2xx, or no answer, is a DeliveryError."""
    url = settings.alert_webhook_url
    if not url.startswith(("http://", "https://")):
        raise DeliveryError(f"the webhook channel needs an http(s) GA_ALERT_WEBHOOK_URL, got {url!r}")
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            response.read()
    except urllib.error.HTTPError as exc:
        raise DeliveryError(f"GA_ALERT_WEBHOOK_URL={url}: HTTP {exc.code} {exc.reason}") from exc
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        raise DeliveryError(f"GA_ALERT_WEBHOOK_URL={url}: not reachable ({exc})") from exc
