"""Enrichment: UTC normalisation, derived columns, reference lookups, lineage, and no raw IP."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta, timezone

from game_analytics.events.contract import EventType
from game_analytics.events.enrich import EVENT_COLUMNS, enrich, row_to_json
from game_analytics.reference import countries, devices, lookup_device, region_for

INGESTED = datetime(2026, 11, 2, 3, 4, 5, tzinfo=UTC)
EVENT = {
    "event_id": "e-1",
    "user_id": "u-1",
    "event_type": int(EventType.LEVEL_COMPLETE),
    "timestamp": "2026-11-01T23:30:00.250-02:00",  # already 2 November in UTC
    "parameters": {"level_id": 4, "boosters_used": [], "custom": {"nested": True}},
    "platform": " iOS",
    "country": "de",
    "device_model": "iphone 15",
    "ip_address": "203.0.113.9",
    "unknown_top_level": "ignored",
}


def test_row_has_exactly_the_table_columns_and_no_ip():
    row = enrich(EVENT, INGESTED, None)
    assert tuple(row) == EVENT_COLUMNS
    assert "ip_address" not in row and "203.0.113.9" not in row_to_json(row)


def test_time_is_normalised_to_utc_with_bigquery_conventions():
    row = enrich(EVENT, INGESTED, None)
    assert row["timestamp"] == datetime(2026, 11, 2, 1, 30, 0, 250000, tzinfo=UTC)
    assert (row["event_date"], row["event_hour"]) == (date(2026, 11, 2), 1)
    assert row["day_of_week"] == 2  # Monday; BigQuery counts Sunday as 1
    for day, expected in (("2026-11-01", 1), ("2026-11-07", 7)):  # a Sunday and a Saturday
        assert enrich({**EVENT, "timestamp": f"{day}T12:00:00Z"}, INGESTED)["day_of_week"] == expected


def test_client_fields_are_cleaned_and_enriched():
    row = enrich(EVENT, INGESTED, None)
    assert (row["platform"], row["country"]) == ("ios", "DE")
    assert (row["device_category"], row["device_tier"], row["region"]) == ("phone", "high", "EU")
    assert row["parameters"] == EVENT["parameters"]
    assert row["ingested_at"] == INGESTED


def test_missing_optional_fields_get_defaults():
    minimal = {k: EVENT[k] for k in ("event_id", "user_id", "event_type", "timestamp")}
    row = enrich(minimal, INGESTED.astimezone(timezone(timedelta(hours=5))))
    assert row["parameters"] == {}
    assert (row["device_category"], row["device_tier"], row["region"]) == ("unknown",) * 3
    assert row["platform"] is None and row["session_id"] is None
    assert row["ingested_at"].utcoffset() == timedelta(0)


def test_lineage_from_kafka_or_none_for_direct_loads():
    direct = enrich(EVENT, INGESTED, None)
    assert (direct["kafka_topic"], direct["kafka_partition"], direct["kafka_offset"]) == (None, None, None)
    kafka = {"topic": "game-events-raw", "partition": 3, "offset": 42}
    for lineage in (kafka, {f"kafka_{k}": v for k, v in kafka.items()}):
        row = enrich(EVENT, INGESTED, lineage)
        assert (row["kafka_topic"], row["kafka_partition"], row["kafka_offset"]) == ("game-events-raw", 3, 42)


def test_region_prefers_country_then_ip_prefix():
    assert region_for("BR", "198.51.100.7") == "LATAM"
    assert region_for(None, "198.51.100.7") == "NA"
    assert region_for("ZZ", "2001:db8:2::1") == "MEA"
    assert region_for(None, "8.8.8.8") == "unknown"
    assert region_for(None, "not an ip") == "unknown"
    assert region_for(None, None) == "unknown"


def test_reference_tables_are_complete_and_consistent():
    assert len(devices()) >= 30 and len(countries()) >= 40
    assert {d.category for d in devices()} == {"phone", "tablet", "desktop"}
    assert {d.tier for d in devices()} == {"low", "mid", "high"}
    assert set(countries().values()) == {"NA", "LATAM", "EU", "MEA", "APAC"}
    assert all(len(c) == 2 and c.isupper() for c in countries())
    assert lookup_device("Pixel 8") == ("phone", "high")
    assert lookup_device("Nokia 3310") == lookup_device(None) == ("unknown", "unknown")


def test_ndjson_line_is_what_bigquery_loads():
    line = json.loads(row_to_json(enrich(EVENT, INGESTED, None)))
    assert line["timestamp"] == "2026-11-02T01:30:00.250000+00:00"
    assert line["event_date"] == "2026-11-02"
    assert line["parameters"]["custom"] == {"nested": True}
