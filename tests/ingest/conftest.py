"""Fixtures of the ingestion tests: a fresh raw and DLQ topic per test, and the broker's librdkafka config."""

from __future__ import annotations

import dataclasses
import json
import os
import uuid

import pytest


@pytest.fixture
def kafka_config(local_stack) -> dict:
    return dict(json.loads(os.environ["AIRFLOW_CONN_KAFKA_DEFAULT"])["extra"])


def new_topics(kafka_config: dict, raw_partitions: int = 4) -> tuple[str, str]:
    """A fresh raw topic of ``raw_partitions`` partitions and a fresh 2-partition DLQ topic; their names."""
    from confluent_kafka.admin import AdminClient, NewTopic

    raw, dlq = f"raw-{uuid.uuid4().hex[:8]}", f"dlq-{uuid.uuid4().hex[:8]}"
    admin = AdminClient({"bootstrap.servers": kafka_config["bootstrap.servers"]})  # must outlive the futures
    for future in admin.create_topics([NewTopic(raw, raw_partitions, 1), NewTopic(dlq, 2, 1)]).values():
        future.result(timeout=10)
    return raw, dlq


@pytest.fixture
def topics(kafka_config) -> tuple[str, str]:
    return new_topics(kafka_config)


@pytest.fixture
def ingest_settings(settings, topics, warehouse):
    """Settings of a test: its own dataset (tables created) and its own topics."""
    return dataclasses.replace(settings, raw_topic=topics[0], dlq_topic=topics[1])
