"""An emulator quirk the health SQL works around, pinned: after an SQL comment holding an apostrophe, a timestamp
literal with fractional seconds is misread (``...02.624475e0+00:00``, a conversion error), so the templates the
health code runs with such literals keep their comments in Jinja (``{# #}``), never sent. If the emulator fixes it,
the first test fails: the rule can go."""

from __future__ import annotations

import re

import pytest
from google.api_core.exceptions import BadRequest

from game_analytics.catalogue import load_catalogue
from game_analytics.warehouse.sql_templates import SQL_DIR

pytestmark = pytest.mark.stack
# Every statement of the operational tables (the health run, the alerts, the page): they carry timestamp literals.
HEALTH_TEMPLATES = sorted(
    str(path.relative_to(SQL_DIR))
    for table in load_catalogue().names(kind="operational")
    for path in (SQL_DIR / table).glob("*.sql")
    if path.name != "schema.sql"
)
_SQL_COMMENT_WITH_QUOTE = re.compile(r"--[^\n]*'")


def test_the_emulator_misreads_a_fractional_timestamp_after_a_quoted_comment(bq):
    literal = "TIMESTAMP '2026-11-30T05:17:02.624475+00:00'"
    assert list(bq.query(f"-- the batch rows\nSELECT {literal} AS t").result())
    with pytest.raises(BadRequest, match="invalid timestamp"):
        list(bq.query(f"-- the batch's rows\nSELECT {literal} AS t").result())


@pytest.mark.parametrize("template", HEALTH_TEMPLATES)
def test_health_templates_send_no_comment_with_an_apostrophe(template):
    text = re.sub(r"\{#.*?#\}", "", (SQL_DIR / template).read_text(), flags=re.DOTALL)
    assert not _SQL_COMMENT_WITH_QUOTE.search(text), f"{template}: move the comment into {{# #}}"
