"""The sensor passes only when D's partition exists and every raw-topic partition caught up past D+1 + grace."""

from __future__ import annotations

import _thread
import dataclasses
import signal
import threading
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from airflow.sdk.exceptions import AirflowFailException, AirflowSensorTimeout, AirflowTaskTerminated

from game_analytics.daily.completeness import (
    DayCompleteSensor,
    day_status,
    fetch_status,
    is_cli_test_run,
)
from game_analytics.timetables import processed_day

D = date(2026, 11, 2)
GRACE = timedelta(minutes=30)
END_OF_D = datetime(2026, 11, 3, tzinfo=UTC)
CLI_CONTEXT = {  # what `airflow dags test game_analytics_daily 2026-11-02` gives the task
    "logical_date": datetime(2026, 11, 2, tzinfo=UTC),
    "ds": D.isoformat(),
    "dag_run": SimpleNamespace(triggering_user_name="dag_test", run_type="manual"),
}


def marks(*caught_up_at):
    return [{"partition": p, "caught_up_at": c} for p, c in enumerate(caught_up_at)]


def test_complete_when_partition_exists_and_all_caught_up():
    status = day_status(D, True, marks(END_OF_D + GRACE, END_OF_D + timedelta(hours=3)), GRACE)
    assert status.complete, status.reason


@pytest.mark.parametrize(
    ("partition", "watermarks", "reason"),
    [
        (False, marks(END_OF_D + GRACE), "no events partition for 2026-11-02"),
        (True, [], "no ingestion watermarks"),
        (True, marks(END_OF_D + GRACE, END_OF_D + timedelta(minutes=29)), "partition 1 at 2026-11-03 00:29"),
        (True, marks(None), "partition 0 at None"),
    ],
)
def test_incomplete_names_what_is_missing(partition, watermarks, reason):
    status = day_status(D, partition, watermarks, GRACE)
    assert not status.complete and reason in status.reason


def insert_day(client, settings, day: date, caught_up_at: datetime, partitions: int = 3):
    client.query(
        f"INSERT INTO {settings.table('events')} (event_id, user_id, event_type, `timestamp`, event_date) "
        f"VALUES ('e1', 'u1', 3001, TIMESTAMP '{day} 12:00:00+00', DATE '{day}')"
    ).result()
    values = ", ".join(
        f"('{settings.raw_topic}', {p}, TIMESTAMP '{caught_up_at.isoformat()}', CURRENT_TIMESTAMP())"
        for p in range(partitions)
    )
    client.query(
        f"INSERT INTO {settings.table('ingestion_watermarks')} (topic, `partition`, caught_up_at, updated_at) "
        f"VALUES {values}"
    ).result()


def test_reads_partition_and_watermarks_from_the_warehouse(warehouse, settings):
    assert not fetch_status(warehouse, settings, D).complete
    insert_day(warehouse, settings, D, END_OF_D + timedelta(hours=1))
    assert fetch_status(warehouse, settings, D).complete
    later = fetch_status(warehouse, settings, D + timedelta(days=1))
    assert not later.complete and "no events partition for 2026-11-03" in later.reason


def test_once_the_day_is_complete_the_sensor_leaves_each_event_of_it_once(warehouse, settings, monkeypatch):
    """The ingestion appends each Kafka message once; an event sent in two messages is two rows until the sensor
    finds D complete and de-duplicates it: the copy on an earlier day wins, else the one stored first."""
    monkeypatch.setenv("GA_BQ_DATASET", settings.bq_dataset)
    insert_day(warehouse, settings, D, END_OF_D + timedelta(hours=1))  # 'e1' on D, no lineage (as stored by hand)
    copies = [  # (event_id, day, ingested_at hour, kafka offset)
        ("again", D, 10, 5), ("again", D, 11, 9), ("again", D, 11, 7),  # re-sent twice: the first stored stays
        ("earlier", D - timedelta(days=1), 12, 1), ("earlier", D, 9, 2),  # also on D-1: D's copy goes
        ("once", D, 12, 3),
    ]  # fmt: skip
    values = ", ".join(
        f"('{e}', 'u1', 3001, TIMESTAMP '{day} 12:00:00+00', DATE '{day}', TIMESTAMP '{D} {h:02}:00:00+00', "
        f"'raw', 0, {offset})"
        for e, day, h, offset in copies
    )
    warehouse.query(
        f"INSERT INTO {settings.table('events')} (event_id, user_id, event_type, `timestamp`, event_date, "
        f"ingested_at, kafka_topic, kafka_partition, kafka_offset) VALUES {values}"
    ).result()
    sensor = DayCompleteSensor(task_id="wait_for_events")
    context = {"logical_date": datetime(2026, 11, 2, tzinfo=UTC), "ds": D.isoformat()}
    for _ in range(2):  # a poke again (a retry) deletes nothing more
        assert sensor.poke(context)
        rows = warehouse.query(
            f"SELECT event_id, event_date, kafka_offset FROM {settings.table('events')} "
            f"WHERE event_date BETWEEN '{D - timedelta(days=1)}' AND '{D}' ORDER BY event_id, event_date"
        ).result()
        assert [tuple(r.values()) for r in rows] == [
            ("again", D, 5), ("e1", D, None), ("earlier", D - timedelta(days=1), 1), ("once", D, 3),
        ]  # fmt: skip


def test_timeout_message_names_the_day_and_what_is_missing(warehouse, settings, monkeypatch):
    monkeypatch.setenv("GA_BQ_DATASET", settings.bq_dataset)
    insert_day(warehouse, settings, D, END_OF_D)  # caught up, but not past the grace period
    sensor = DayCompleteSensor(task_id="wait_for_events", mode="poke", timeout=0, poke_interval=0)
    with pytest.raises(AirflowSensorTimeout) as err:
        sensor.execute({"logical_date": datetime(2026, 11, 2, tzinfo=UTC), "ds": D.isoformat()})
    message = str(err.value)
    assert "day 2026-11-02 still incomplete" in message and "not caught up past 2026-11-03T00:30" in message


def test_a_cli_test_run_is_recognised_by_the_run_dag_test_creates():
    """`dags test` runs are MANUAL runs with triggering user "dag_test"; the real CLI is run in test_sensor_cli.py."""
    assert is_cli_test_run(CLI_CONTEXT)
    assert not is_cli_test_run({"dag_run": SimpleNamespace(triggering_user_name="alice", run_type="manual")})
    assert not is_cli_test_run({"dag_run": SimpleNamespace(triggering_user_name=None, run_type="scheduled")})


def test_in_a_cli_test_run_the_timeout_is_short_and_says_what_to_do(warehouse, settings, monkeypatch):
    monkeypatch.setenv("GA_BQ_DATASET", settings.bq_dataset)
    monkeypatch.setenv("GA_SENSOR_CLI_TIMEOUT_SECONDS", "0")
    sensor = DayCompleteSensor(task_id="wait_for_events")
    configured = (sensor.mode, sensor.timeout, sensor.poke_interval)
    with pytest.raises(AirflowSensorTimeout) as err:
        sensor.execute(CLI_CONTEXT)
    message = str(err.value)
    assert "day 2026-11-02 is not complete after 0 s (GA_SENSOR_CLI_TIMEOUT_SECONDS)" in message
    assert "no events partition for 2026-11-02 yet" in message and "pick a day that has data" in message
    assert f"{settings.bq_dataset}.events" in message
    assert (sensor.mode, sensor.timeout, sensor.poke_interval) == configured, "CLI settings must not outlive the run"
    sensor.on_kill()  # outside a CLI wait a SIGTERM changes nothing (a worker's supervisor handles it)


def test_ctrl_c_in_a_cli_test_run_fails_the_sensor_instead_of_retrying(warehouse, settings, monkeypatch):
    """A KeyboardInterrupt would be retried after retry_delay, with `dags test` waiting for the retry meanwhile."""
    monkeypatch.setenv("GA_BQ_DATASET", settings.bq_dataset)
    monkeypatch.setenv("GA_SENSOR_CLI_TIMEOUT_SECONDS", "600")
    sensor = DayCompleteSensor(task_id="wait_for_events")
    # Python's own SIGINT handler, as in a terminal: a suite started in the background (`cmd &`, some CI runners)
    # inherits SIGINT ignored, and interrupt_main() then does nothing, so the sensor would wait its 600 s.
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    ctrl_c = threading.Timer(1.0, _thread.interrupt_main)  # SIGINT's effect, in this (the main) thread
    ctrl_c.start()
    try:
        with pytest.raises(AirflowTaskTerminated, match=r"stopped by Ctrl-C \(SIGINT\) while waiting for day 2026-11"):
            sensor.execute(CLI_CONTEXT)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C left the sensor as a KeyboardInterrupt, which Airflow retries")
    finally:
        ctrl_c.cancel()
        signal.signal(signal.SIGINT, previous)


def test_sensor_does_not_hold_a_worker_slot():
    assert DayCompleteSensor(task_id="s").mode == "reschedule"


def test_a_run_without_logical_date_fails_first_and_says_how_to_trigger():
    """`airflow dags trigger` without -l makes such a run; its templates would otherwise fail on an undefined ds."""
    assert processed_day({"logical_date": datetime(2026, 11, 2, tzinfo=UTC), "ds": "2026-11-02"}) == D
    with pytest.raises(AirflowFailException, match=r"has none.*-l 2026-11-22"):
        processed_day({"logical_date": None})
    with pytest.raises(AirflowFailException):
        processed_day({})


def test_a_topic_with_a_quote_and_a_backslash(warehouse, settings):
    """The watermark MERGE and the sensor's read quote the topic (Kafka itself only allows [a-zA-Z0-9._-] in a
    topic name, but the setting is free text); a topic that merely starts like it is another topic."""
    from game_analytics.warehouse.watermarks import Watermark, record_watermarks

    topic = "raw-o'brien\\x"
    odd = dataclasses.replace(settings, raw_topic=topic)
    warehouse.query(
        f"INSERT INTO {settings.table('events')} (event_id, user_id, event_type, `timestamp`, event_date) "
        f"VALUES ('e1', 'u1', 3001, TIMESTAMP '{D} 12:00:00+00', DATE '{D}')"
    ).result()
    caught_up = END_OF_D + timedelta(hours=1)
    record_watermarks(warehouse, odd, [Watermark(topic, p, caught_up, END_OF_D, 10 + p) for p in range(2)])
    record_watermarks(warehouse, odd, [Watermark("raw-o", 0, END_OF_D, None, None)])  # behind, but not this topic
    assert fetch_status(warehouse, odd, D).complete, fetch_status(warehouse, odd, D).reason

    # Again, later: the rows of the quoted topic are matched (updated), not inserted twice; its name is kept as is.
    record_watermarks(warehouse, odd, [Watermark(topic, 0, caught_up + timedelta(hours=1), None, 12)])
    rows = warehouse.query(
        f"SELECT topic, `partition`, committed_offset FROM {settings.table('ingestion_watermarks')}"
    ).result()
    assert sorted((r["topic"], r["partition"], r["committed_offset"]) for r in rows) == [
        ("raw-o", 0, None), (topic, 0, 12), (topic, 1, 11)
    ]  # fmt: skip
