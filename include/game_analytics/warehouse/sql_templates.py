"""Render the repository's SQL templates the way Airflow renders them.

The `.sql` files under ``sql/`` are Jinja templates. Airflow renders them inside tasks (the DAG passes
:func:`sql_context` as ``user_defined_macros``, and adds ``ds`` etc.); tests, the setup step and the benchmark
render them here with the same variables, so what is tested is what runs.
"""

from __future__ import annotations

from pathlib import Path

import jinja2

from game_analytics.config import Settings

SQL_DIR = Path(__file__).resolve().parents[3] / "sql"


def sql_context(settings: Settings) -> dict[str, object]:
    """Variables every SQL template may use besides Airflow's own (``ds``, ``params``)."""
    return {
        "project": settings.bq_project,
        "dataset": settings.bq_dataset,
        "features_bucket": settings.features_bucket,
        "completeness_grace_minutes": settings.completeness_grace_minutes,
        "volume_drop_warn_ratio": settings.volume_drop_warn_ratio,
        "dlq_share_warn": settings.dlq_share_warn,
        "dlq_share_fail": settings.dlq_share_fail,
    }


def _environment() -> jinja2.Environment:
    # StrictUndefined, like Airflow: an undefined variable is an error, not an empty string.
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(SQL_DIR)), undefined=jinja2.StrictUndefined)


def render_sql(relative_path: str, settings: Settings, **variables: object) -> str:
    """Render ``sql/<relative_path>`` with the pipeline's context plus ``variables`` (e.g. ``ds``)."""
    template = _environment().get_template(relative_path)
    return template.render(**sql_context(settings), **variables)
