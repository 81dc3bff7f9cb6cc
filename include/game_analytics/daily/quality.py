"""Data-quality checks: SQL files next to each table, each marked ``fail`` or ``warn``.

A check is ``sql/<table>/checks/<name>.sql`` whose first lines are ``-- severity: fail|warn`` and
``-- description: ...``; its query returns the offending rows, so zero rows means it passed. Fail checks stop the
run with a message naming the check, the table, the day and the offending values; warn checks are logged (and
returned, so the task's XCom shows them in the UI) and the run goes on. Given a warehouse client, every check's
result (pass, warn or fail, with its message and first offending values) is written to ``check_results`` before a
fail check raises (this module writes its own records, :func:`record_check_results`, through warehouse/rows.py),
so the health page and the ``check_failed`` / ``check_warned`` alerts see it.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

from game_analytics.config import Settings
from game_analytics.warehouse.rows import write_rows
from game_analytics.warehouse.sql_templates import render_sql

log = logging.getLogger(__name__)

SEVERITIES = ("fail", "warn")
_HEADER = re.compile(r"^--\s*(severity|description):\s*(.+?)\s*$")
SHOWN_ROWS = 5


class DataQualityError(Exception):
    """One or more fail checks found offending rows."""


@dataclass(frozen=True)
class Check:
    table: str
    name: str
    severity: str
    description: str
    path: Path

    @property
    def template(self) -> str:
        """The check's path relative to the SQL folder (``<table>/checks/<name>.sql``), as templates are named."""
        return f"{self.table}/checks/{self.path.name}"


@dataclass
class CheckResult:
    check: Check
    day: str
    offending: list[dict] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.offending

    def message(self) -> str:
        shown = "; ".join(_format_row(r) for r in self.offending[:SHOWN_ROWS])
        more = f" (and {len(self.offending) - SHOWN_ROWS} more)" if len(self.offending) > SHOWN_ROWS else ""
        return (
            f"[{self.check.severity}] check {self.check.name} on {self.check.table} for {self.day}: "
            f"{self.check.description}; {len(self.offending)} offending row(s): {shown}{more}"
        )


def _format_row(row: dict) -> str:
    return "{" + ", ".join(f"{k}={v!r}" for k, v in row.items()) + "}"


def parse_check(path: Path) -> Check:
    """Read a check's header; a missing or unknown severity is an error naming the file."""
    headers: dict[str, str] = {}
    for line in path.read_text().splitlines():
        match = _HEADER.match(line.strip())
        if not match:
            break
        headers[match.group(1)] = match.group(2)
    severity = headers.get("severity")
    if severity not in SEVERITIES:
        raise ValueError(f"{path}: first line must be '-- severity: fail' or '-- severity: warn', got {severity!r}")
    return Check(
        table=path.parent.parent.name,
        name=path.stem,
        severity=severity,
        description=headers.get("description", path.stem.replace("_", " ")),
        path=path,
    )


def discover_checks(table: str, settings: Settings) -> list[Check]:
    from game_analytics.catalogue import load_catalogue

    return [parse_check(p) for p in load_catalogue(settings)[table].check_files]


def run_table_checks(
    run_query: Callable[[str], list[dict]],
    settings: Settings,
    table: str,
    day: str,
    *,
    client=None,
    dag_run_id: str | None = None,
) -> list[CheckResult]:
    """Run every check of ``table`` for ``day``; raise DataQualityError if a fail check found rows.

    With ``client``, the results replace the (``day``, ``table``) rows of ``check_results`` first (``dag_run_id``:
    the daily run that ran them)."""
    results = []
    for check in discover_checks(table, settings):
        sql = render_sql(check.template, settings, ds=day)
        results.append(CheckResult(check, day, run_query(sql)))
    if client is not None:
        record_check_results(client, settings, table, day, results, dag_run_id, datetime.now(UTC))
    for result in results:
        if result.passed:
            log.info("passed: %s on %s for %s", result.check.name, table, day)
        elif result.check.severity == "warn":
            log.warning("WARNING %s", result.message())
    failures = [r for r in results if not r.passed and r.check.severity == "fail"]
    if failures:
        raise DataQualityError("\n".join(r.message() for r in failures))
    return results


def check_status(result: CheckResult) -> str:
    """pass, or the check's severity (warn / fail) when it found offending rows."""
    return "pass" if result.passed else result.check.severity


def record_check_results(
    client, settings: Settings, table: str, day: str, results: Sequence[CheckResult], dag_run_id, checked_at: datetime
) -> None:
    """Replace the ``check_results`` rows of (``day``, ``table``) by ``results``, in one statement."""
    rows = [
        {
            "day": date.fromisoformat(day),
            "table_name": table,
            "check_name": r.check.name,
            "severity": r.check.severity,
            "status": check_status(r),
            "message": None if r.passed else r.message(),
            "offending_rows": len(r.offending),
            # Dates, decimals and timestamps as their text.
            "offending_values": json.dumps(r.offending[:SHOWN_ROWS], default=str),
            "dag_run_id": dag_run_id,
            "checked_at": checked_at,
        }
        for r in results
    ]
    write_rows(client, settings, "check_results/replace.sql", "check_results", rows, day=day, table_name=table)
