"""Fixtures of the health tests: the ingestion tests' broker config and topics (an ingestion run records itself),
and the instants the measurements are checked at."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.ingest.conftest import ingest_settings, kafka_config, topics  # noqa: F401 (fixtures)

# A plain instant, and the ones where day arithmetic breaks first: just after midnight on a Monday, on the 1st of a
# month, on Feb 29 and on the day after it.
FIXED = datetime(2026, 3, 10, 14, 37, 12, tzinfo=UTC)
INSTANTS = [
    FIXED,
    datetime(2026, 11, 30, 0, 30, tzinfo=UTC),  # Monday 00:30
    datetime(2026, 12, 1, 0, 30, tzinfo=UTC),  # 1st of a month
    datetime(2028, 2, 29, 0, 30, tzinfo=UTC),  # Feb 29
    datetime(2028, 3, 1, 0, 30, tzinfo=UTC),  # the day after Feb 29
]
INSTANT_IDS = ["fixed", "monday-0030", "first-of-month", "feb-29", "mar-1-leap"]
