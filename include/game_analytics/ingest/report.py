"""What one ingestion attempt did: the report a run returns (XCom) and records in ``ingestion_runs``.

Its own module because the run (run.py) fills it and the attempt's warehouse row (attempts.py) is made from it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass
class IngestionReport:
    topic: str
    consumer_group: str
    run_id: str = ""
    shard: int = 0  # which of the run's shards this report is (it read the partitions p % shards == shard)
    shards: int = 1
    try_number: int = 1  # the Airflow try (with run_id and shard, the key of the attempt's ingestion_runs row)
    started_at: str = ""  # ISO-8601 UTC, as XCom carries it
    finished_at: str = ""
    batches: int = 0
    consumed: int = 0
    loaded: int = 0  # rows appended to `events` (an event_id sent twice: de-duplicated per day, daily DAG)
    dead_lettered: int = 0  # rows added to `events_dlq`
    # Consumed messages that added nothing, by why (consumed = loaded + dead_lettered + the two):
    already_stored: int = 0  # valid, and already taken (offsets), or a repeat of an event_id within its batch
    already_dead_lettered: int = 0  # invalid, and their dead letter (topic, partition, offset) already kept
    rejected: int = 0  # invalid messages seen (dead-lettered now or before)
    dead_lettered_by_reason: dict = field(default_factory=dict)  # reason code -> rows this run added to `events_dlq`
    avro: int = 0
    consumer_lag: int | None = None
    seconds: float = 0.0
    events_per_second: float = 0.0
    stopped_because: str = ""
    partitions: dict = field(default_factory=dict)  # partition -> next_offset, caught_up_at, lag
    timings: dict = field(default_factory=dict)  # seconds spent per phase, summed over batches

    def to_dict(self) -> dict:
        return asdict(self)
