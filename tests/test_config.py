"""Settings come from GA_* variables; a bad value names its variable instead of turning into a surprise."""

from __future__ import annotations

from pathlib import Path

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


def test_the_sql_folder_is_a_setting(tmp_path):
    """GA_SQL_DIR: where an installed package finds the SQL (the image sets it: docker/Dockerfile)."""
    from game_analytics.warehouse.sql_templates import find_sql_dir, render_sql

    (tmp_path / "t").mkdir()
    (tmp_path / "t" / "read.sql").write_text("SELECT {{ topic | sql_string }} AS topic\n")
    settings = load_settings({"GA_SQL_DIR": str(tmp_path)})
    assert find_sql_dir(settings) == tmp_path
    assert render_sql("t/read.sql", settings, topic="o'brien") == "SELECT 'o\\'brien' AS topic"


def test_without_the_setting_the_sql_folder_is_the_checkouts():
    from game_analytics.warehouse.sql_templates import SQL_DIR, find_sql_dir

    assert find_sql_dir(load_settings({})) == Path(__file__).resolve().parents[1] / "sql"
    assert SQL_DIR == find_sql_dir(load_settings())


def test_a_sql_folder_that_does_not_exist_names_the_setting(tmp_path):
    from game_analytics.warehouse.sql_templates import find_sql_dir

    with pytest.raises(FileNotFoundError, match=r"GA_SQL_DIR='.*/nowhere' is not a folder"):
        find_sql_dir(load_settings({"GA_SQL_DIR": str(tmp_path / "nowhere")}))


def test_the_module_level_sql_dir_follows_the_setting(tmp_path):
    """SQL_DIR (the DAG's template_searchpath, the catalogue's folder) is read from GA_SQL_DIR at import."""
    import os
    import subprocess
    import sys

    env = {**os.environ, "GA_SQL_DIR": str(tmp_path)}
    code = "from game_analytics.warehouse.sql_templates import SQL_DIR; print(SQL_DIR)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout
    assert out.strip() == str(tmp_path)
