"""Run `bqemulator` offline, without the two costs the pipeline never needs.

1. bqemulator always runs ``INSTALL spatial`` at start, which needs DuckDB's extension repository; this machine
   (and CI) cannot reach it, and no PyPI wheel of the extension fits DuckDB 2.0. The pipeline never uses
   GEOGRAPHY, so the loader becomes a no-op.
2. After every load job and DML statement bqemulator copies the whole target table into a time-travel snapshot
   (``CREATE TABLE ... AS SELECT *``), even with a retention of 0 days. Nothing here reads time travel, and for
   the ingestion the copy of each staging batch was about half of a load job. With
   ``BQEMU_TIME_TRAVEL_RETENTION_DAYS=0`` (the local stack's setting) the copy is skipped; the change event is
   still published.

This module is the only place that touches bqemulator internals; ``tests/test_local_stack.py`` fails loudly if an
upstream name in ``PATCH_TARGETS`` moves.

Usage: ``python -m game_analytics.localstack.bq_emulator start --persistent --data-dir DIR ...``
(the arguments are bqemulator's own CLI).
"""

from __future__ import annotations

import importlib
import sys

SPATIAL_TARGET = ("bqemulator.storage.engine", "DuckDBEngine", "_load_spatial")
SNAPSHOT_TARGET = ("bqemulator.versioning.snapshots", "SnapshotManager", "record_change")
PATCH_TARGETS = (SPATIAL_TARGET, SNAPSHOT_TARGET)


def _target(target: tuple[str, str, str]):
    module_name, class_name, method = target
    cls = getattr(importlib.import_module(module_name), class_name)
    if not callable(getattr(cls, method, None)):
        raise RuntimeError(
            f"bqemulator changed: {module_name}.{class_name}.{method} is gone; "
            "update game_analytics.localstack.bq_emulator"
        )
    return cls, method


def disable_spatial_extension() -> None:
    """Make the engine skip the spatial extension (GEOGRAPHY is unused here)."""
    cls, method = _target(SPATIAL_TARGET)
    setattr(cls, method, lambda self: None)


def skip_snapshots_without_retention() -> None:
    """With a time-travel retention of 0 days, publish the table change but do not copy the table."""
    from bqemulator.domain.events import TableDataChanged

    cls, method = _target(SNAPSHOT_TARGET)
    original = getattr(cls, method)

    def record_change(self, project_id: str, dataset_id: str, table_id: str):
        if self._retention_days > 0:
            return original(self, project_id, dataset_id, table_id)
        self._events.publish(TableDataChanged(project_id, dataset_id, table_id))
        return None

    setattr(cls, method, record_change)


def main(argv: list[str] | None = None) -> int:
    disable_spatial_extension()
    skip_snapshots_without_retention()
    from bqemulator.cli import main as bqemulator_cli

    return bqemulator_cli(args=argv if argv is not None else sys.argv[1:], standalone_mode=True) or 0


if __name__ == "__main__":
    sys.exit(main())
