"""Fixtures of the alert tests: a real webhook receiver (the local stack's, in a thread of the test process) with
an inbox of the test's own, and settings that send to it."""

from __future__ import annotations

import dataclasses
import json
import threading
from pathlib import Path

import pytest

from game_analytics.localstack.alert_receiver import make_server


class Receiver:
    def __init__(self, inbox: Path):
        self.inbox = inbox
        self.server = make_server("127.0.0.1", 0, inbox)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/alerts"

    def received(self) -> list[dict]:
        return [json.loads(line) for line in self.inbox.read_text().splitlines() if line.strip()]


@pytest.fixture
def receiver(tmp_path):
    receiver = Receiver(tmp_path / "inbox.jsonl")
    thread = threading.Thread(target=receiver.server.serve_forever, daemon=True)
    thread.start()
    yield receiver
    receiver.server.shutdown()
    receiver.server.server_close()


@pytest.fixture
def alert_settings(settings, receiver):
    """The test's settings, delivering through the webhook channel to the test's receiver."""
    return dataclasses.replace(settings, alert_channels="webhook", alert_webhook_url=receiver.url)
