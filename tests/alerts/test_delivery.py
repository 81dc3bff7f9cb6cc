"""Delivery through the PipelineNotifier: the local stack's webhook receiver (real, started by the local stack),
Slack and e-mail. Slack and SMTP are the only stand-ins of these tests: a local HTTP server playing Slack's
incoming-webhook endpoint, and a minimal SMTP server speaking the protocol smtplib uses (aiosmtpd is not
installed). The providers' own hooks (SlackWebhookHook, SmtpHook) do the sending."""

from __future__ import annotations

import dataclasses
import json
import os
import socketserver
import threading
import urllib.request
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from game_analytics.health.dag_callbacks import dag_failure_payload
from game_analytics.notify.channels import DeliveryError, configured_channels, payload
from game_analytics.notify.notifier import PipelineNotifier, deliver

BODY = {
    "notification_id": "high_dlq_rate||2024-02-29T23:55:00+00:00|firing",
    "rule": "high_dlq_rate",
    "subject": "",
    "kind": "firing",
    "severity": "warning",
    "summary": "Too many messages are dead-lettered",
    "message": "20.00% of the messages of the last ingestion runs were dead-lettered (threshold 1.00%)",
    "runbook_url": "http://localhost:8080/pipeline-health/runbooks#high_dlq_rate",
    "created_at": "2024-02-29T23:55:00+00:00",
}


@pytest.mark.stack
def test_the_local_stacks_receiver_gets_a_real_post(local_stack, settings):
    """The receiver the launcher started (GA_ALERT_WEBHOOK_URL of the stack's environment) writes the inbox."""
    inbox = local_stack.state.alert_inbox
    before = inbox.read_text().count("\n") if inbox.exists() else 0
    assert settings.alert_webhook_url == f"http://127.0.0.1:{local_stack.ports.alert_receiver}/alerts"
    body = dict(BODY, notification_id=f"test|{os.getpid()}|{datetime.now(UTC).isoformat()}")
    deliver(body, settings)
    lines = inbox.read_text().splitlines()[before:]
    assert [json.loads(line) for line in lines] == [body]
    with urllib.request.urlopen(settings.alert_webhook_url.rsplit("/", 1)[0] + "/", timeout=5) as health:
        assert json.load(health)["received"] >= 1


def test_the_webhook_payload_and_a_refused_post(receiver, settings):
    webhook = dataclasses.replace(settings, alert_channels="webhook", alert_webhook_url=receiver.url)
    deliver(BODY, webhook)
    assert receiver.received() == [BODY]
    request = urllib.request.Request(receiver.url, data=b"not json", method="POST")
    with pytest.raises(urllib.error.HTTPError, match="400"):
        urllib.request.urlopen(request, timeout=5)
    assert receiver.received() == [BODY]
    missing = dataclasses.replace(webhook, alert_webhook_url="")
    with pytest.raises(DeliveryError, match="GA_ALERT_WEBHOOK_URL"):
        deliver(BODY, missing)
    with pytest.raises(ValueError, match="GA_ALERT_CHANNELS='webhook,pager'"):
        configured_channels(dataclasses.replace(webhook, alert_channels="webhook,pager"))


class SlackStandIn(BaseHTTPRequestHandler):
    """Slack's incoming-webhook endpoint as far as the provider sees it: POST JSON, answer 200 "ok"."""

    received: list = []

    def do_POST(self):  # noqa: N802
        self.received.append((self.path, json.loads(self.rfile.read(int(self.headers["Content-Length"])))))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args):
        pass


class SmtpStandIn(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib (EHLO, MAIL, RCPT, DATA, QUIT); each message lands in ``messages``."""

    messages: list = []

    def reply(self, line: str) -> None:
        self.wfile.write((line + "\r\n").encode())

    def handle(self):
        self.reply("220 stand-in ESMTP")
        envelope = {"to": []}
        while line := self.rfile.readline().decode().rstrip("\r\n"):
            verb = line.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 stand-in")
            elif verb == "MAIL":
                envelope["from"] = line.split(":", 1)[1].strip(" <>")
                self.reply("250 OK")
            elif verb == "RCPT":
                envelope["to"].append(line.split(":", 1)[1].strip(" <>"))
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with .")
                data = []
                while (chunk := self.rfile.readline().decode()) not in (".\r\n", ""):
                    data.append(chunk)
                self.messages.append({**envelope, "data": "".join(data)})
                self.reply("250 queued")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


def _serve(server):
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def test_slack_and_email_through_the_providers_hooks(settings, monkeypatch):
    slack = _serve(HTTPServer(("127.0.0.1", 0), SlackStandIn))
    smtp = _serve(socketserver.ThreadingTCPServer(("127.0.0.1", 0), SmtpStandIn))
    try:
        slack_url = f"http://127.0.0.1:{slack.server_address[1]}/services/T000/B000/XXXX"
        monkeypatch.setenv("AIRFLOW_CONN_SLACK_TEST", json.dumps({"conn_type": "slackwebhook", "password": slack_url}))
        smtp_conn = {
            "conn_type": "smtp",
            "host": "127.0.0.1",
            "port": smtp.server_address[1],
            "extra": {"disable_tls": True, "disable_ssl": True, "from_email": "airflow@example.com", "retry_limit": 0},
        }
        monkeypatch.setenv("AIRFLOW_CONN_SMTP_TEST", json.dumps(smtp_conn))
        both = dataclasses.replace(
            settings,
            alert_channels="slack, email",
            slack_webhook_conn_id="slack_test",
            smtp_conn_id="smtp_test",
            alert_email_to="oncall@example.com",
        )
        PipelineNotifier(BODY, both)({})  # as Airflow calls a notifier
        ((path, slack_body),) = SlackStandIn.received
        assert path == "/services/T000/B000/XXXX"
        assert slack_body["text"].startswith("[FIRING warning] high_dlq_rate: Too many messages are dead-lettered")
        assert BODY["runbook_url"] in slack_body["text"] and BODY["notification_id"] in slack_body["text"]
        (mail,) = SmtpStandIn.messages
        assert mail["from"] == "airflow@example.com" and mail["to"] == ["oncall@example.com"]
        assert "Subject: [FIRING warning] high_dlq_rate: Too many messages are dead-lettered" in mail["data"]
        # One channel failing (no recipients) does not stop the other; the error names the setting.
        with pytest.raises(DeliveryError, match="email: DeliveryError: .*GA_ALERT_EMAIL_TO"):
            deliver(BODY, dataclasses.replace(both, alert_email_to=""))
        assert len(SlackStandIn.received) == 2
    finally:
        slack.shutdown()
        smtp.shutdown()


def test_a_dag_failure_payload_from_the_callback_context(settings):
    """The context keys Airflow 3.3.2 gives a DAG-level on_failure_callback (dag, run_id, reason, ti) were recorded
    from a real dag-processor run; the payload borrows airflow_dag_failed's severity and runbook."""
    ti = type("TI", (), {"task_id": "checks_level_metrics"})()
    ctx = {
        "dag": type("Dag", (), {"dag_id": "game_analytics_daily"})(),
        "run_id": "scheduled__2024-02-29",
        "reason": "task_failure",
        "ti": ti,
    }
    body = dag_failure_payload(ctx, settings, now=datetime(2024, 3, 1, 2, 30, tzinfo=UTC))
    assert body["notification_id"] == "airflow_dag_failed|game_analytics_daily|scheduled__2024-02-29|dag_run_failed"
    assert (body["severity"], body["kind"], body["subject"]) == ("high", "firing", "game_analytics_daily")
    ctx["dag_run"] = type("Run", (), {"logical_date": datetime(2024, 2, 29, tzinfo=UTC)})()
    dated = dag_failure_payload(ctx, settings, now=datetime(2024, 3, 1, 2, 30, tzinfo=UTC))
    assert dated["subject"] == "game_analytics_daily@2024-02-29"  # the daily DAG's subject is (DAG, day)
    assert (
        body["message"]
        == "run scheduled__2024-02-29 of DAG game_analytics_daily failed (task_failure; task checks_level_metrics)"
    )
    assert body["runbook_url"].endswith("/pipeline-health/runbooks#airflow_dag_failed")
    assert set(body) == set(payload(type("N", (), body)()))
