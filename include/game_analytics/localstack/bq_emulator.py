"""Run `bqemulator` offline.

bqemulator always runs ``INSTALL spatial`` at start, which needs DuckDB's extension repository; this machine (and
CI) cannot reach it, and no PyPI wheel of the extension fits DuckDB 2.0. The pipeline never uses GEOGRAPHY, so we
replace the loader with a no-op. This module is the only place that touches bqemulator internals;
``tests/test_local_stack.py::test_bq_emulator_patch_target_exists`` fails loudly if the upstream name moves.

Usage: ``python -m game_analytics.localstack.bq_emulator start --persistent --data-dir DIR ...``
(the arguments are bqemulator's own CLI).
"""

from __future__ import annotations

import sys

PATCH_TARGET = ("bqemulator.storage.engine", "DuckDBEngine", "_load_spatial")


def disable_spatial_extension() -> None:
    """Make the engine skip the spatial extension (GEOGRAPHY is unused here)."""
    import importlib

    module_name, class_name, method = PATCH_TARGET
    cls = getattr(importlib.import_module(module_name), class_name)
    if not callable(getattr(cls, method, None)):
        raise RuntimeError(
            f"bqemulator changed: {module_name}.{class_name}.{method} is gone; "
            "update game_analytics.localstack.bq_emulator"
        )
    setattr(cls, method, lambda self: None)


def main(argv: list[str] | None = None) -> int:
    disable_spatial_extension()
    from bqemulator.cli import main as bqemulator_cli

    return bqemulator_cli(args=argv if argv is not None else sys.argv[1:], standalone_mode=True) or 0


if __name__ == "__main__":
    sys.exit(main())
