"""``GA_BIND_HOST`` reaches the broker's advertised address (issue 18, item 6): a Kafka client connects to the
address the broker advertises, so a broker listening on every interface must not advertise loopback (a client on
another machine would be told to connect to itself).

The argv the launcher builds is checked without starting anything; then a real Tansu broker bound to 0.0.0.0 is
started on a free port, and a client that bootstraps through the advertised (non-loopback) address produces and
consumes through it. Nothing is mocked but, in one test, the two address look-ups (to plant a machine without one).
"""

from __future__ import annotations

import ipaddress
import socket
import uuid

import pytest

from game_analytics.localstack import environment, launcher
from game_analytics.localstack.environment import StackPorts, primary_address
from game_analytics.localstack.servers import Server, StackError, free_port, stop_all


class _Started(Exception):
    """Raised instead of starting the broker: the test only wants its argv."""


def broker_argv(tmp_path, monkeypatch) -> list[str]:
    """The argv LocalStack starts the broker with (nothing is started)."""
    ports = StackPorts(bigquery=free_port(), bigquery_grpc=free_port(), kafka=9999, airflow=free_port())
    stack = launcher.LocalStack(tmp_path / "state", ports, with_airflow=False, say=lambda _line: None)
    argv: list[str] = []

    def capture(name, args):
        argv.extend(args)
        raise _Started(name)

    monkeypatch.setattr(launcher, "tansu_binary", lambda: "tansu")
    monkeypatch.setattr(stack, "_server", capture)
    with pytest.raises(_Started):
        stack._start_kafka()
    return argv


def option(argv: list[str], name: str) -> str:
    return argv[argv.index(name) + 1]


def is_this_machine(address: str) -> bool:
    """Only an address of one of this machine's interfaces can be bound."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind((address, 0))
        except OSError:
            return False
    return True


@pytest.mark.parametrize(
    ("bind", "advertised", "expected"),
    [
        (None, None, "127.0.0.1"),  # the default: loopback, as before
        ("10.1.2.3", None, "10.1.2.3"),  # one interface: the same address
        ("0.0.0.0", "kafka.example.internal", "kafka.example.internal"),  # the setting wins
        ("0.0.0.0", "fd00::1", "[fd00::1]"),  # an IPv6 literal, bracketed in the URL
    ],
)
def test_the_broker_advertises_what_the_settings_say(tmp_path, monkeypatch, bind, advertised, expected):
    for name, value in (("GA_BIND_HOST", bind), ("GA_ADVERTISED_HOST", advertised)):
        monkeypatch.delenv(name, raising=False) if value is None else monkeypatch.setenv(name, value)
    argv = broker_argv(tmp_path, monkeypatch)
    assert option(argv, "--listener-url") == f"tcp://{bind or '127.0.0.1'}:9999"
    assert option(argv, "--advertised-listener-url") == f"tcp://{expected}:9999"


def test_bound_to_every_interface_the_broker_advertises_an_address_of_this_machine(tmp_path, monkeypatch):
    monkeypatch.setenv("GA_BIND_HOST", "0.0.0.0")
    monkeypatch.delenv("GA_ADVERTISED_HOST", raising=False)
    argv = broker_argv(tmp_path, monkeypatch)
    assert option(argv, "--listener-url") == "tcp://0.0.0.0:9999"
    host = option(argv, "--advertised-listener-url").removeprefix("tcp://").removesuffix(":9999")
    assert not ipaddress.ip_address(host).is_loopback and not ipaddress.ip_address(host).is_unspecified, host
    assert is_this_machine(host), host


def test_a_machine_without_an_address_for_others_says_which_setting_to_set(monkeypatch):
    monkeypatch.setenv("GA_BIND_HOST", "0.0.0.0")
    monkeypatch.setattr(environment, "_ROUTE_PROBE", ("127.0.0.1", 9))  # as if the only route were loopback
    monkeypatch.setattr(socket, "gethostbyname", lambda _name: "127.0.0.1")  # and the hostname too
    with pytest.raises(StackError, match="GA_ADVERTISED_HOST"):
        primary_address()


@pytest.fixture
def broker_on_every_interface(tmp_path, monkeypatch):
    """A Tansu broker started with the launcher's listener arguments and GA_BIND_HOST=0.0.0.0."""
    monkeypatch.setenv("GA_BIND_HOST", "0.0.0.0")
    monkeypatch.delenv("GA_ADVERTISED_HOST", raising=False)
    port = free_port()
    argv = [launcher.tansu_binary(), "broker", *environment.broker_listener_args(port)]
    server = Server("kafka-advertised", argv, tmp_path / "kafka-advertised.log")
    server.start()
    try:
        yield primary_address(), port
    finally:
        stop_all([server])


def test_a_client_connecting_through_the_advertised_address_works(broker_on_every_interface):
    from confluent_kafka import Consumer, Producer, TopicPartition
    from confluent_kafka.admin import AdminClient, NewTopic

    host, port = broker_on_every_interface
    config = {"bootstrap.servers": f"{host}:{port}"}
    admin = AdminClient(config)
    topic = f"advertised-{uuid.uuid4().hex[:8]}"
    for _ in range(60):  # the broker starts in well under a second; wait for its first answer
        try:
            brokers = admin.list_topics(timeout=1).brokers
            break
        except Exception:  # noqa: BLE001 - not listening yet
            continue
    else:
        pytest.fail("the broker did not answer")
    assert [(b.host, b.port) for b in brokers.values()] == [(host, port)]  # what clients are told to connect to
    for future in admin.create_topics([NewTopic(topic, 1, 1)]).values():
        future.result(timeout=10)
    producer = Producer(config)
    producer.produce(topic, b"through the advertised address")
    assert producer.flush(10) == 0
    consumer = Consumer({**config, "group.id": topic, "enable.auto.commit": False})
    consumer.assign([TopicPartition(topic, 0, 0)])  # no group join: only the fetch path is under test
    try:
        got = None
        for _ in range(30):
            message = consumer.poll(1)
            if message is not None and message.error() is None:
                got = message.value()
                break
    finally:
        consumer.close()
    assert got == b"through the advertised address"
