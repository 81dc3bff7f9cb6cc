"""The ingestion's warehouse SQL: the batch script's statements and their order, and the watermark MERGE.

The watermark MERGE moved from a Python f-string to a sql/ template without changing a token but its partition
bound: it is compared, up to whitespace, with what the f-string built before the move (frozen below) plus that
bound. What each batch statement reads is tested in tests/sql/test_events_partition_filter.py.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from game_analytics.config import Settings
from game_analytics.ingest.batch import DeadLetter, PreparedBatch
from game_analytics.ingest.loader import WarehouseLoader
from game_analytics.warehouse.watermarks import Watermark, upsert_sql

INGESTED_AT = datetime(2026, 11, 8, 12, 30, 1, 123456, tzinfo=UTC)
DEAD = DeadLetter(key=b"k", value=b"{", reason="invalid_json", reason_text="bad", topic="raw", partition=1, offset=7)


def _old_lit(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"


def _old_upsert_sql(settings: Settings, marks: list[Watermark]) -> str:
    """warehouse/watermarks.py's upsert_sql before the SQL moved to sql/ (verbatim), plus the bound to the run's
    partitions that shards brought (the table is partitioned by Kafka partition)."""

    def _ts(value):
        return "NULL" if value is None else f"TIMESTAMP '{value.isoformat()}'"

    rows = " UNION ALL ".join(
        f"SELECT '{m.topic}' AS topic, {m.partition} AS `partition`, {_ts(m.caught_up_at)} AS caught_up_at, "
        f"{_ts(m.max_event_timestamp)} AS max_event_timestamp, "
        f"{'NULL' if m.committed_offset is None else m.committed_offset} AS committed_offset"
        for m in marks
    )
    bound = ", ".join(str(m.partition) for m in marks)
    return f"""
MERGE {settings.table("ingestion_watermarks")} AS t
USING ({rows}) AS s
ON t.topic = s.topic AND t.`partition` = s.`partition` AND t.`partition` IN ({bound})
WHEN MATCHED THEN UPDATE SET
    caught_up_at = GREATEST(COALESCE(t.caught_up_at, s.caught_up_at), s.caught_up_at),
    max_event_timestamp = GREATEST(
        COALESCE(t.max_event_timestamp, s.max_event_timestamp), COALESCE(s.max_event_timestamp, t.max_event_timestamp)),
    committed_offset = GREATEST(COALESCE(t.committed_offset, s.committed_offset), COALESCE(s.committed_offset, -1)),
    updated_at = CURRENT_TIMESTAMP()
WHEN NOT MATCHED THEN INSERT (topic, `partition`, caught_up_at, max_event_timestamp, committed_offset, updated_at)
    VALUES (s.topic, s.`partition`, s.caught_up_at, s.max_event_timestamp, s.committed_offset, CURRENT_TIMESTAMP())
"""


def tokens(sql: str) -> str:
    """The SQL up to whitespace: runs collapsed, none inside parentheses or before a comma or semicolon."""
    sql = re.sub(r"\s+", " ", sql).strip()
    return re.sub(r"\( | (?=[),;])", lambda m: m.group(0).strip(), sql)


def batch(rows: int, dead_letters: int, offsets: dict[int, int]) -> PreparedBatch:
    return PreparedBatch(
        ingested_at=INGESTED_AT, consumed=rows + dead_letters, valid=rows, rows=rows,
        parquet_path="x.parquet" if rows else None,
        dates=[date(2026, 11, 8), date(2026, 10, 30), date(2026, 11, 7)] if rows else [],
        dead_letters=[DEAD] * dead_letters, next_offsets=offsets, max_event_timestamp={}, avro=0,
    )  # fmt: skip


@pytest.mark.parametrize("transaction", [True, False])
@pytest.mark.parametrize(
    ("rows", "dead_letters", "offsets", "statements"),
    [
        (5, 2, {3: 40, 0: 12, 1: 9}, ["SET", "INSERT", "INSERT", "SET", "INSERT", "MERGE"]),
        (5, 0, {0: 12}, ["SET", "INSERT", "INSERT", "MERGE"]),
        (0, 2, {1: 9}, ["SET", "INSERT", "MERGE"]),
        (0, 0, {2: 1}, ["MERGE"]),  # every message skipped as already taken: the offsets still move
    ],
)
def test_the_batch_script_appends_rows_and_dead_letters_then_moves_the_offsets(
    transaction, rows, dead_letters, offsets, statements
):
    """The order that makes a crash harmless: counts and appends first (the rows' live counts right after the rows,
    through the same offset check), the offsets last; a statement with nothing to do is left out; every offset
    check and the offsets MERGE name exactly the batch's partitions."""
    settings = Settings(ingest_use_transaction=transaction)
    loader = WarehouseLoader(None, settings, "game-events-raw", "game-events-ingest")
    sql = loader.transaction_sql(batch(rows, dead_letters, offsets))
    kinds = [s.split()[0] for s in sql.split(";\n") if s.strip()]
    inside = ["BEGIN", *statements, "COMMIT"] if transaction else statements
    assert kinds == ["DECLARE", "DECLARE", *inside, "SELECT"]
    partitions = ", ".join(str(p) for p in sorted(offsets))
    bounds = re.findall(r"`partition` IN \(([^)]*)\)", sql)
    assert bounds and set(bounds) == {partitions}
    # each SET and INSERT reads the offsets, the MERGE writes them
    assert len(bounds) == statements.count("SET") + statements.count("INSERT") + 1
    inserts = re.findall(r"^INSERT INTO (\S+)", sql, re.MULTILINE)
    appended = [settings.table("events"), settings.table("live_event_counts")] if rows else []
    assert inserts == appended + ([settings.table("events_dlq")] if dead_letters else [])


def test_the_watermark_merge_is_the_same_sql_as_before():
    marks = [
        Watermark("game-events-raw", 0, datetime(2026, 11, 9, 0, 45, tzinfo=UTC), INGESTED_AT, 120),
        Watermark("game-events-raw", 1, datetime(2026, 11, 9, 0, 45, tzinfo=UTC), None, None),
    ]
    settings = Settings()
    assert tokens(upsert_sql(settings, marks)) == tokens(_old_upsert_sql(settings, marks))


class _ConflictingClient:
    """Stands in for real BigQuery, which the local stack cannot be here: the emulator never runs two transactions
    at once, so it never aborts one for a concurrent update (the error text is BigQuery's)."""

    def __init__(self, conflicts: int, error: str = "Transaction is aborted due to concurrent update against table x"):
        self.conflicts, self.error, self.scripts = conflicts, error, []

    def query(self, sql):
        self.scripts.append(sql)
        if len(self.scripts) <= self.conflicts:
            raise RuntimeError(self.error)
        return self

    def result(self):
        return [{"loaded": 5, "dead_lettered": 0}]


def test_a_batch_aborted_by_another_shards_transaction_is_committed_again(monkeypatch):
    import game_analytics.ingest.loader as loader_module

    monkeypatch.setattr(loader_module, "CONFLICT_BACKOFF_SECONDS", 0.001)
    client = _ConflictingClient(conflicts=2)
    result = WarehouseLoader(client, Settings(), "raw", "g").commit(batch(5, 0, {0: 12}))
    assert result.loaded == 5 and len(client.scripts) == 3 and len(set(client.scripts)) == 1


@pytest.mark.parametrize(
    ("conflicts", "error"),
    [(99, "Transaction is aborted due to concurrent update against table x"), (1, "Syntax error: Unexpected")],
)
def test_other_errors_and_endless_conflicts_fail_the_batch(monkeypatch, conflicts, error):
    import game_analytics.ingest.loader as loader_module

    monkeypatch.setattr(loader_module, "CONFLICT_BACKOFF_SECONDS", 0.001)
    client = _ConflictingClient(conflicts, error)
    with pytest.raises(RuntimeError, match=error.split(":")[0]):
        WarehouseLoader(client, Settings(), "raw", "g").commit(batch(5, 0, {0: 12}))
    assert len(client.scripts) == (loader_module.CONFLICT_RETRIES + 1 if conflicts == 99 else 1)
