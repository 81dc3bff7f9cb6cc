"""Concise fixture rows for the SQL tests, and a small wrapper to insert them and run the repository's SQL.

Rows are plain dicts; :func:`event` fills every ``events`` column from a handful of arguments (``event_date``,
``event_hour`` and ``day_of_week`` derived from the timestamp, like ingestion does). Inserts are one multi-row
``INSERT ... VALUES`` per call, because the emulator spends most of its time per statement, not per row.
"""

from __future__ import annotations

import itertools
import json
import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from game_analytics.catalogue import load_catalogue
from game_analytics.config import Settings
from game_analytics.events.contract import EventType
from game_analytics.warehouse.sql_templates import render_sql

DAY = "2026-01-02"  # the day D most tests compute
LEVEL_START, LEVEL_COMPLETE, LEVEL_FAIL, PURCHASE, SESSION_START, SESSION_END = (int(t) for t in EventType)
METRIC_TABLES = tuple(load_catalogue().names(kind="metric"))
# Every table the daily DAG builds a partition of for day D, in the order it builds them: the metrics, the player
# state and the KPIs.
DAY_TABLES = tuple(t.name for t in load_catalogue() if t.kind in ("metric", "state", "kpi"))

_ids = itertools.count(1)


class Json(str):
    """Raw JSON text for a JSON column (e.g. ``Json('{"moves_used": 12.5}')``); a dict is dumped to one too."""


def at(day: str, clock: str = "12:00:00") -> datetime:
    """``at(DAY, "10:05")``: a UTC instant on ``day``."""
    return datetime.fromisoformat(f"{day} {clock}")


def shift(day: str, days: int) -> str:
    return (date.fromisoformat(day) + timedelta(days=days)).isoformat()


def event(
    event_type: int,
    user_id: str,
    when: datetime | str = DAY,
    params: dict | str | None = None,
    **columns: object,
) -> dict:
    """One ``events`` row. ``when`` is a datetime (UTC) or a day (noon); ``params`` a dict, raw JSON text or None.

    Any other column can be given as a keyword (``platform=None``, ``session_id="s2"``, ``event_id="e-1"``);
    ``parameters=None`` stores SQL NULL instead of ``{}``.
    """
    ts = at(when) if isinstance(when, str) else when
    row = {
        "event_id": f"e-{next(_ids):06d}",
        "user_id": user_id,
        "session_id": f"{user_id}-s1",
        "event_type": event_type,
        "event_name": None,
        "timestamp": ts,
        "parameters": Json(params if isinstance(params, str) else json.dumps(params if params is not None else {})),
        "platform": "ios",
        "app_version": "1.4.0",
        "country": "DE",
        "device_model": "iPhone15,2",
        "event_date": ts.date(),
        "event_hour": ts.hour,
        "day_of_week": ts.isoweekday() % 7 + 1,  # BigQuery DAYOFWEEK: Sunday = 1
        "device_category": "phone",
        "device_tier": "high",
        "region": "EU",
        "kafka_topic": "game-events-raw",
        "kafka_partition": 0,
        "kafka_offset": 0,
        "ingested_at": ts,
    }
    row.update(columns)
    return row


def dlq_row(failed_at: datetime | str, reason_code: str = "invalid_json", **columns: object) -> dict:
    ts = at(failed_at) if isinstance(failed_at, str) else failed_at
    row = {
        "raw_value": "{not json",
        "raw_value_encoding": "utf-8",
        "message_key": "u-1",
        "reason_code": reason_code,
        "reason_text": "message is not a JSON object",
        "kafka_topic": "game-events-raw",
        "kafka_partition": 0,
        "kafka_offset": next(_ids),
        "failed_at": ts,
    }
    row.update(columns)
    return row


def sql_literal(value: object) -> str:
    """A GoogleSQL literal for a Python value (the types the fixtures use)."""
    if value is None:
        return "NULL"
    if isinstance(value, Json):
        return "JSON " + _quote(value)
    if isinstance(value, dict):
        return "JSON " + _quote(json.dumps(value))
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return f"CAST('{value}' AS FLOAT64)"
        return repr(value)
    if isinstance(value, datetime):
        return f"TIMESTAMP '{value.isoformat(sep=' ')}+00'"
    if isinstance(value, date):
        return f"DATE '{value.isoformat()}'"
    if isinstance(value, str):
        return _quote(value)
    raise TypeError(f"no SQL literal for {value!r}")


def _quote(text: str) -> str:
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'").replace("\n", "\\n") + "'"


@dataclass
class Warehouse:
    """A test dataset on the emulator: insert fixture rows, render and run the repository's SQL."""

    client: object
    settings: Settings

    def table(self, name: str) -> str:
        return self.settings.table(name)

    def run(self, sql: str) -> list[dict]:
        return [dict(row) for row in self.client.query(sql).result()]

    def insert(self, table: str, rows: list[dict]) -> None:
        """One INSERT for all ``rows`` (which may leave out different columns: missing ones are NULL)."""
        if not rows:
            return
        columns = list(dict.fromkeys(c for row in rows for c in row))
        values = ",\n".join("(" + ", ".join(sql_literal(row.get(c)) for c in columns) + ")" for row in rows)
        names = ", ".join(f"`{c}`" for c in columns)
        self.run(f"INSERT INTO {self.table(table)} ({names}) VALUES\n{values}")

    def insert_events(self, rows: list[dict]) -> None:
        self.insert("events", rows)

    def render(self, template: str, ds: str = DAY) -> str:
        return render_sql(template, self.settings, ds=ds)

    def query(self, template: str, ds: str = DAY) -> list[dict]:
        """Render ``sql/<template>`` for day ``ds`` and return its rows."""
        return self.run(self.render(template, ds))

    def materialize(self, table: str, ds: str = DAY) -> None:
        """What the DAG does for one metric table and day: replace partition ``ds`` with the query's rows."""
        self.run(f"DELETE FROM {self.table(table)} WHERE `date` = DATE '{ds}'")
        self.run(f"INSERT INTO {self.table(table)}\n{self.render(f'{table}/query.sql', ds)}")
