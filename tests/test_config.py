"""Settings come from GA_* variables; a bad value names its variable instead of turning into a surprise."""

from __future__ import annotations

import pytest

from game_analytics.config import load_settings


@pytest.mark.parametrize(("raw", "expected"), [("false", False), ("0", False), ("True", True), ("yes", True)])
def test_booleans_are_read_as_words(raw, expected):
    assert load_settings({"GA_INGEST_USE_TRANSACTION": raw}).ingest_use_transaction is expected


@pytest.mark.parametrize(
    ("name", "raw"),
    [("GA_INGEST_USE_TRANSACTION", "maybe"), ("GA_DLQ_SHARE_FAIL", "five"), ("GA_SENSOR_POKE_SECONDS", "1.5")],
)
def test_a_bad_value_names_its_variable(name, raw):
    with pytest.raises(ValueError, match=f"{name}='{raw}' is not a valid"):
        load_settings({name: raw})


def test_defaults_suit_production_ingestion():
    assert load_settings({}).ingest_use_transaction is True
