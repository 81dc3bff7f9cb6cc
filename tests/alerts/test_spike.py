"""A burst of 10x the normal rate while ingestion runs on its schedule: the lag grows, drains within a stated bound,
nothing is lost or doubled, and the health page and ``high_kafka_lag`` follow it (each fires once, resolves once).

Real pieces only, on the shared local stack (no Airflow): a producer thread sends game events (0.5 % planted bad
messages) to the raw topic at ``RATE`` events/s, and at ``SPIKE`` x ``RATE`` for ``BURST_SECONDS``; the test plays
the two DAGs on a compressed clock, one slot every ``INTERVAL`` seconds (``game_events_ingest`` runs every 10
minutes): the health run of ``pipeline_health`` (measure -> record -> alerts -> webhook), then one
``run_ingestion`` bounded by ``MAX_RUN`` seconds, as the DAG's run is by ``GA_INGEST_MAX_RUN_SECONDS``. The health
run goes first because in Airflow both DAGs start on the same instant and the health run has measured long before
the ingestion's first batch is in the warehouse. A slot that starts late (the previous one overran) starts at once,
as a run queued behind ``max_active_runs=1`` does. After every health run the test reads what the page shows
(``read_snapshot``, and the page's JSON ``/api/summary`` built from it as the plugin does). The burst starts right
after the second slot's health run, so that two health runs measured normal traffic before it, however slow the
machine is.

The threshold is scaled to the test's rates (``GA_ALERT_HIGH_KAFKA_LAG_THRESHOLD``; alerts.yaml keeps 100,000).
Messages go round-robin to the 4 partitions (still keyed by user), so every partition sees the same rates. A
health run measures, per partition, what arrived since the last batch the ingestion committed: with staleness s
seconds the lag is about s x rate / 4. At a slot, s is the previous run's last warehouse write, any wait for the
slot and the health run itself: 1-3 s on the idle 2-core machine, up to about 6 s when it is loaded. Normal
traffic (25/s per partition) stays below 25 x 6 = 150 < ``THRESHOLD`` = 200 (measured: 18-85); burst traffic
(250/s per partition) is above it once s > 0.8 s, and the burst lasts 1.5 intervals, so the next slot's health run
measures burst traffic only (at least about 1.5 s of it, 375 per partition; measured: 560-1,220).

**The drain bound.** Let E be the burst's end. One ingestion run takes the whole backlog left at E: at most
burst rate x (a slot + staleness), about 1,000 x 8 = 8,000 messages, while a run reads up to 5,000 messages per
batch and at least two batches (the second is read while the first is in the warehouse): measured, one run of
1.9-3.0 s took 4,900-5,400 messages, about 2,000 events/s against the 100 arriving. So the first run that starts
after E leaves only normal traffic behind, and at the latest the health run of the slot after it measures every
partition under the threshold. Asserted: it is at most the second health run that starts after E, and it
measured at most ``DRAIN_BOUND`` = 2 slots + a health run after E, 20 s (5 x ``INTERVAL``), which allows slots of
up to 8 s on a loaded machine (on time they take ``INTERVAL``; measured drain: 2-7 s). In general: a spike of
k x R for B seconds on a schedule of interval I drains within two intervals after it ends when one run can take
the backlog, C x M >= k x R x min(B, I + s) (C: a run's events/s with a backlog, M: its max seconds); otherwise
the backlog shrinks by about C x M - R x I per interval.

The clock is input: health runs measure at the test process's clock (``datetime.now``), which scripts/test-at
moves (the ingestion stamps its rows with the same clock), and no event is stamped later than it is sent, so near
midnight the events span two dates.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest

from game_analytics.health.rules import load_rules, threshold_variable
from game_analytics.health.run import run_health_check
from game_analytics.health.snapshot import read_snapshot
from game_analytics.health_ui.page import summary
from game_analytics.ingest import run_ingestion
from game_analytics.notify.notifier import deliver
from game_analytics.producer import generate_events, make_messages
from game_analytics.producer.bad_messages import format_timestamp
from game_analytics.warehouse.client import query_rows
from tests.ingest.conftest import kafka_config, topics  # noqa: F401 - fixtures

pytestmark = pytest.mark.stack

GROUP = "spike"
PARTITIONS = 4  # the raw topic of the topics fixture
RATE = 100.0  # normal events/s
SPIKE = 10
INTERVAL = 4.0  # seconds between slots (the ingestion DAG's 10 minutes)
MAX_RUN = 1.5  # seconds an ingestion run may keep consuming
BATCH = {"max_messages_per_batch": 5000, "max_batch_seconds": 0.5}
BURST_SECONDS = 1.5 * INTERVAL
THRESHOLD = 200  # messages per partition
DRAIN_BOUND = 5 * INTERVAL  # seconds after the burst's end by which every partition's lag is back under THRESHOLD
# Traffic goes on while the burst drains: until a health run after the burst finds every partition under the
# threshold, at the latest for this many slots.
MAX_SLOTS = 10
BAD_RATE = 0.005


@dataclasses.dataclass
class Probe:
    """One health run and what the page showed right after it."""

    started: float  # monotonic
    lag: dict[str, float]  # partition -> kafka_lag_messages, as the page's snapshot holds it
    firing: set[str]  # high_kafka_lag subjects firing after the run (the run's report)
    page: dict  # the page's JSON (/api/summary)

    def under(self) -> bool:
        return all(v <= THRESHOLD for v in self.lag.values())


class Producer(threading.Thread):
    """Sends ``messages`` at RATE, and at SPIKE x RATE for BURST_SECONDS after :meth:`burst`, until stopped; records
    where each message landed."""

    def __init__(self, bootstrap: str, topic: str, messages: list):
        super().__init__(name="spike-producer", daemon=True)
        self.bootstrap, self.topic, self.messages = bootstrap, topic, messages
        self.landed: dict[int, tuple[int, int]] = {}  # message index -> (partition, offset)
        self.sent = 0
        self.errors: list = []
        self.burst_from: float | None = None  # monotonic
        self.stopping = threading.Event()

    def burst(self) -> None:
        self.burst_from = time.monotonic()

    @property
    def burst_until(self) -> float:
        assert self.burst_from is not None
        return self.burst_from + BURST_SECONDS

    def run(self) -> None:
        from confluent_kafka import Producer as KafkaProducer

        producer = KafkaProducer({"bootstrap.servers": self.bootstrap, "linger.ms": 5})
        due = time.monotonic()  # of the next message; a producer that fell behind catches up at once
        try:
            for i, message in enumerate(self.messages):
                while (wait := due - time.monotonic()) > 0 and not self.stopping.is_set():
                    producer.poll(min(wait, 0.1))
                if self.stopping.is_set():
                    break

                def landed(err, msg, i=i) -> None:
                    if err is not None:
                        self.errors.append(err)
                    else:
                        self.landed[i] = (msg.partition(), msg.offset())

                # Round-robin, so that every partition sees the same rates (the key stays the user's).
                producer.produce(self.topic, key=message.key, value=message.value, partition=i % PARTITIONS,
                                 on_delivery=landed)  # fmt: skip
                self.sent = i + 1
                producer.poll(0)
                bursting = self.burst_from is not None and self.burst_from <= due < self.burst_until
                due += 1 / (RATE * SPIKE if bursting else RATE)
            else:
                self.errors.append("ran out of messages")
            if producer.flush(30):
                self.errors.append("unflushed messages")
        except BaseException as exc:  # seen by the test, not lost in the thread
            self.errors.append(exc)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=60)
        assert not self.is_alive() and not self.errors, self.errors


def spike_messages(now: datetime) -> list:
    """Enough messages for MAX_SLOTS slots that run late; none stamped later than it can be sent (at the burst's
    rate from ``now``)."""
    count = int(RATE * 2 * MAX_SLOTS * INTERVAL + RATE * SPIKE * BURST_SECONDS)
    events = list(generate_events(16, now.date(), 1, 5000))[:count]
    assert len(events) == count
    for i, event in enumerate(events):
        event["timestamp"] = format_timestamp(now + timedelta(seconds=i / (RATE * SPIKE)))
    return list(make_messages(events, "json", BAD_RATE, seed=16, now=now))


def test_a_10x_burst_drains_within_the_bound_and_the_alert_follows(
    topics,  # noqa: F811 - fixture
    warehouse,
    kafka_config,  # noqa: F811 - fixture
    alert_settings,
    receiver,
    monkeypatch,
):
    monkeypatch.setenv("GA_ALERT_HIGH_KAFKA_LAG_THRESHOLD", str(THRESHOLD))
    # The other rules are tested elsewhere (test_planted_faults.py); here the ones an empty dataset fires at the
    # first health run would only cost deliveries.
    for rule in ("data_freshness", "ingestion_stalled", "high_dlq_rate"):
        monkeypatch.setenv(threshold_variable(rule), "1e12")
    raw, dlq = topics
    test_settings = dataclasses.replace(alert_settings, raw_topic=raw, dlq_topic=dlq)
    config = {**kafka_config, "group.id": GROUP}
    rules = {rule.name: rule for rule in load_rules(test_settings)}
    assert rules["high_kafka_lag"].threshold == THRESHOLD

    def health() -> Probe:
        started, now = time.monotonic(), datetime.now(UTC)
        report = run_health_check(warehouse, test_settings, now, config, lambda body: deliver(body, test_settings))
        snapshot = read_snapshot(warehouse, test_settings, now)  # what the page shows as of the same instant
        return Probe(
            started=started,
            lag=dict(snapshot.values("kafka_lag_messages")),
            firing={f[len("high_kafka_lag[") : -1] for f in report.firing if f.startswith("high_kafka_lag[")},
            page=summary(snapshot, rules),
        )

    def ingest():
        return run_ingestion(test_settings, config, group_id=GROUP, client=warehouse, max_run_seconds=MAX_RUN, **BATCH)

    messages = spike_messages(datetime.now(UTC))
    producer = Producer(kafka_config["bootstrap.servers"], raw, messages)
    start = time.monotonic()
    producer.start()
    probes: list[Probe] = []
    reports = []
    for k in range(MAX_SLOTS):
        time.sleep(max(0.0, start + k * INTERVAL - time.monotonic()))  # a late slot starts at once
        probes.append(health())
        if k == 1:
            producer.burst()
        reports.append(ingest())
        if producer.burst_from and probes[-1].started >= producer.burst_until and probes[-1].under():
            break
    producer.stop()
    reports.append(ingest())  # the next run takes what is left,
    probes.append(health())  # and the health run after it finds nothing waiting

    def seconds(at: float) -> float:
        return round(at - start, 1)

    trace = [(seconds(p.started), [int(v) for _, v in sorted(p.lag.items())], len(p.firing)) for p in probes]
    runs = [(r.seconds, r.consumed, r.stopped_because) for r in reports]
    burst = (seconds(producer.burst_from), seconds(producer.burst_until))
    partitions = {str(p) for p in range(PARTITIONS)}

    # Before the burst: under the threshold, nothing fires.
    assert all(p.under() and not p.firing for p in probes[:2]), trace
    # The burst: every partition's lag goes over the threshold and its alert fires.
    assert all(max(p.lag[s] for p in probes) > THRESHOLD for s in partitions), trace
    # ... and it drains within the bound: from the first health run after the burst's end E on which every
    # partition is under the threshold, every later one is too; it is at most the second health run after E and
    # measured at most DRAIN_BOUND after E.
    after = [p for p in probes if p.started >= producer.burst_until]
    drained = next((i for i, p in enumerate(after) if p.under()), None)
    assert drained is not None, (burst, trace)
    drain_seconds = after[drained].started - producer.burst_until
    print(f"spike: burst {burst} s; health runs (s, lag per partition, alerts firing) {trace}; ingestion runs "
          f"(s, consumed, why stopped) {runs}; under the threshold {drain_seconds:.1f} s after the burst")  # fmt: skip
    assert drained <= 1, (burst, trace)  # the first ingestion run that starts after E takes the whole backlog
    assert drain_seconds <= DRAIN_BOUND, (drain_seconds, burst, trace)
    assert all(p.under() and not p.firing for p in after[drained:]), trace
    assert set(probes[-1].lag.values()) == {0} and reports[-1].stopped_because == "caught_up", (trace, runs)

    # The page shows what was measured: the lag tile is the max over partitions, red exactly while its alert
    # fires, and the alerts listed are the ones the health run left firing.
    for probe in probes:
        tile = next(t for t in probe.page["tiles"] if t["metric"] == "kafka_lag_messages")
        assert probe.page["measurements"]["kafka_lag_messages"] == probe.lag
        assert tile["value"] == max(probe.lag.values()) and tile["threshold"] == THRESHOLD
        assert (tile["status"] == "red") == bool(probe.firing), (tile, trace)
        listed = {a["subject"] for a in probe.page["alerts_firing"] if a["rule"] == "high_kafka_lag"}
        assert listed == probe.firing == {s for s, v in probe.lag.items() if v > THRESHOLD}, trace
    # high_kafka_lag: once firing and once resolved per partition, in that order, and nothing else.
    got = [(n["subject"], n["kind"]) for n in receiver.received() if n["rule"] == "high_kafka_lag"]
    assert sorted(got) == sorted([(s, "firing") for s in partitions] + [(s, "resolved") for s in partitions]), got
    assert all(got.index((s, "firing")) < got.index((s, "resolved")) for s in partitions), got

    # Nothing lost, nothing doubled: every valid message sent is one row of events, every bad one one dead letter.
    sent = messages[: producer.sent]
    assert len(producer.landed) == len(sent)
    valid = Counter((m.event["event_id"], *producer.landed[i]) for i, m in enumerate(sent) if m.event)
    bad = Counter((str(m.planted_reason), *producer.landed[i]) for i, m in enumerate(sent) if m.planted_reason)
    assert bad, "the traffic must carry bad messages too"
    days = sorted({datetime.fromisoformat(m.event["timestamp"]).astimezone(UTC).date() for m in sent if m.event})
    rows = query_rows(
        warehouse,
        f"SELECT event_id, kafka_partition, kafka_offset FROM {test_settings.table('events')} "
        f"WHERE event_date BETWEEN '{days[0]}' AND '{days[-1]}'",
    )
    assert Counter((r["event_id"], r["kafka_partition"], r["kafka_offset"]) for r in rows) == valid
    dead = query_rows(
        warehouse, f"SELECT reason_code, kafka_partition, kafka_offset FROM {test_settings.table('events_dlq')}"
    )
    assert Counter((r["reason_code"], r["kafka_partition"], r["kafka_offset"]) for r in dead) == bad
    assert sum(r.consumed for r in reports) == len(sent)
    assert sum(r.already_stored + r.already_dead_lettered for r in reports) == 0
