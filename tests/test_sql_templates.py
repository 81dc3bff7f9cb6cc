"""The one quoting helper for values inlined into SQL (`sql_string`), by its text and against the emulator.

The ingestion's scripts inline values instead of using query parameters (the emulator ignores parameters inside
multi-statement scripts), so a topic or consumer-group name with a quote, a backslash or a newline must come back
from BigQuery exactly as it went in.
"""

from __future__ import annotations

from datetime import date

import pytest

from game_analytics.warehouse.sql_templates import sql_string

AWKWARD = [
    "o'brien\\x",
    "\\'",
    "''",
    "\\",
    "ends with a backslash\\",
    "two\nlines\r\nand\ta tab",
    "\x01 control \x1f and \x7f",
    "Grüße, 名前, 🎮",
    "",
]


@pytest.mark.parametrize(
    ("value", "literal"),
    [
        ("game-events-raw", "'game-events-raw'"),
        ("o'brien\\x", "'o\\'brien\\\\x'"),
        ("a\nb\r\nc", "'a\\nb\\r\\nc'"),  # BigQuery rejects a raw line break in '...'
        ("tab\t\x01\x1b\x7f", "'tab\t\x01\x1b\x7f'"),  # other control characters are allowed as they are
        ("Grüße 名前 🎮", "'Grüße 名前 🎮'"),  # UTF-8 text stands for itself
    ],
)
def test_a_value_becomes_one_googlesql_string_literal(value, literal):
    assert sql_string(value) == literal


@pytest.mark.parametrize("value", [date(2026, 11, 2), 7, None])
def test_only_text_is_quoted(value):
    """A date or number passed by mistake would be quoted as its repr; the error names what came instead."""
    with pytest.raises(TypeError, match=f"sql_string quotes text, got {type(value).__name__}"):
        sql_string(value)


@pytest.mark.stack
def test_every_value_comes_back_from_the_emulator_unchanged(bq):
    """One script, as the ingestion sends them, so the values pass the multi-statement parser too."""
    selects = " UNION ALL ".join(f"SELECT {i} AS i, {sql_string(v)} AS v" for i, v in enumerate(AWKWARD))
    rows = list(bq.query(f"SELECT 1 AS warm_up;\nSELECT i, v FROM ({selects}) ORDER BY i;").result())
    assert [r["v"] for r in rows] == AWKWARD
