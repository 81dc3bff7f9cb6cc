"""The event contract has one home (game_analytics.events), agrees with the spec and the shipped Avro schema, and
the runtime ingestion reaches it without importing the synthetic-event producer."""

from __future__ import annotations

import subprocess
import sys
from datetime import timedelta

import pytest

from game_analytics.events.contract import (
    EVENT_NAMES,
    LEVEL_TYPES,
    MAX_AGE,
    MAX_AGE_SQL,
    MAX_AHEAD,
    MAX_AHEAD_SQL,
    MAX_MESSAGE_BYTES,
    OPTIONAL_STRINGS,
    PURCHASE_TYPES,
    REQUIRED_FIELDS,
    SESSION_TYPES,
    EventType,
    sql_codes,
    sql_interval,
)
from game_analytics.schemas import GAME_EVENT_V1, SCHEMAS


def _modules_after_import(module: str, prefixes: tuple[str, ...]) -> list[str]:
    """The modules starting with ``prefixes`` that importing ``module`` loads, in a fresh interpreter."""
    script = f"import sys, {module}; print(sorted(m for m in sys.modules if m.startswith({prefixes!r})))"
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    return eval(out.stdout)  # noqa: S307 - a list of module names printed by the script above


def test_the_runtime_ingestion_does_not_import_the_producer():
    """The Avro codec was the producer's: importing the ingestion loaded the whole synthetic-event producer."""
    assert _modules_after_import("game_analytics.ingest.run", ("game_analytics.producer",)) == []


@pytest.mark.parametrize("module", ["game_analytics.events.contract", "game_analytics.events.avro"])
def test_the_contract_is_cheap_to_import(module):
    heavy = ("airflow", "pyarrow", "duckdb", "pandas", "google.cloud.bigquery", "confluent_kafka")
    heavy += ("game_analytics.producer",)
    assert _modules_after_import(module, heavy) == []


def test_codes_names_and_families_are_the_specs():
    assert EVENT_NAMES == {
        1001: "level_start",
        1002: "level_complete",
        1003: "level_fail",
        2001: "purchase",
        3001: "session_start",
        3002: "session_end",
    }
    assert EventType(2001).event_name == "purchase"
    assert (set(LEVEL_TYPES), set(PURCHASE_TYPES), set(SESSION_TYPES)) == ({1001, 1002, 1003}, {2001}, {3001, 3002})
    assert sql_codes(LEVEL_TYPES) == "(1001, 1002, 1003)"


def test_limits_and_time_window_are_the_specs_in_python_and_sql():
    assert MAX_MESSAGE_BYTES == 65536
    assert (MAX_AHEAD, MAX_AGE) == (timedelta(hours=1), timedelta(days=30))
    assert (MAX_AHEAD_SQL, MAX_AGE_SQL) == ("1 HOUR", "30 DAY")
    assert sql_interval(timedelta(minutes=90)) == "90 MINUTE"
    assert sql_interval(timedelta(seconds=61)) == "61 SECOND"
    with pytest.raises(ValueError, match="whole number of seconds"):
        sql_interval(timedelta(milliseconds=1500))


def test_the_shipped_avro_schema_has_the_contracts_fields():
    """Required fields are non-nullable, optional strings nullable; ``parameters`` travels as ``parameters_json``."""
    fields = {f["name"]: f["type"] for f in SCHEMAS[GAME_EVENT_V1]["fields"]}
    assert set(fields) == {*REQUIRED_FIELDS, *OPTIONAL_STRINGS, "parameters_json"}
    avro_type = {str: "string", int: "long"}
    assert {name: fields[name] for name in REQUIRED_FIELDS} == {n: avro_type[t] for n, t in REQUIRED_FIELDS.items()}
    assert all(fields[name] == ["null", "string"] for name in (*OPTIONAL_STRINGS, "parameters_json"))
