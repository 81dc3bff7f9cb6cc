"""A broker that is not there fails the run quickly, naming the servers tried and the setting that lists them.

The address is a free port on 127.0.0.1: nothing listens there, so every connection is refused.
"""

from __future__ import annotations

import re
import time

import pytest

from game_analytics.ingest.batch import DeadLetter
from game_analytics.ingest.consumer import BrokerUnreachable, open_consumer
from game_analytics.ingest.dlq import DeadLetterProducer
from game_analytics.localstack.servers import free_port

QUICK = 15.0  # seconds; librdkafka's own metadata timeout was 30 s, and the run failed after 32 s


def nowhere() -> tuple[str, dict]:
    address = f"127.0.0.1:{free_port()}"
    return address, {"bootstrap.servers": address}


def assert_names_address_and_setting(exc: BaseException, address: str, conn_id: str) -> None:
    message = str(exc)
    assert address in message, message
    assert "bootstrap.servers" in message and repr(conn_id) in message, message
    assert f"AIRFLOW_CONN_{conn_id.upper()}" in message, message


def test_the_consumer_fails_quickly_naming_servers_and_connection():
    address, config = nowhere()
    started = time.monotonic()
    with pytest.raises(BrokerUnreachable) as caught:
        open_consumer(config, "game-events-raw", "ingest", {}, "kafka_default")
    assert time.monotonic() - started < QUICK
    assert_names_address_and_setting(caught.value, address, "kafka_default")
    assert re.search(r"refused|down", str(caught.value)), caught.value  # and what librdkafka saw


def test_the_dlq_producer_fails_quickly_naming_servers_and_connection():
    address, config = nowhere()
    dead = DeadLetter(b"k", b"not json", "malformed_json", "not JSON", "game-events-raw", 0, 7)
    producer = DeadLetterProducer(config, "game-events-dlq", "kafka_other")
    started = time.monotonic()
    with pytest.raises(BrokerUnreachable) as caught:
        producer.send([dead], timeout=60)
    assert time.monotonic() - started < QUICK
    assert_names_address_and_setting(caught.value, address, "kafka_other")


@pytest.mark.stack
def test_an_ingestion_run_with_the_broker_down_says_where_it_looked(settings, warehouse):
    """The whole run, as the DAG calls it: the warehouse is up, the broker is not."""
    from game_analytics.ingest import run_ingestion

    address, config = nowhere()
    started = time.monotonic()
    with pytest.raises(BrokerUnreachable) as caught:
        run_ingestion(settings, config, max_messages_per_batch=10, max_batch_seconds=1, max_run_seconds=60)
    assert time.monotonic() - started < QUICK
    assert_names_address_and_setting(caught.value, address, settings.kafka_conn_id)
