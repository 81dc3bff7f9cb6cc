"""A test hook shared by the ingestion and the alert store: kill this process at a named point.

``GA_INGEST_CRASH_AT=<point>[@<n>]`` SIGKILLs the process the n-th time (default: the first) it reaches ``point``
(the ingestion's ``ingest.run.CRASH_POINTS``, the alert store's ``health.alert_store.CRASH_POINTS``). Tests use
it to prove that a crash anywhere loses and repeats nothing; it is inert unless the variable is set. A module of
its own, so the health task does not import the Kafka ingestion to reach it.

``GA_CRASH_AT_FILE=<path>`` arms a point from outside a running stack, once: when that file exists and its text
names the point, the process that reaches the point deletes the file before it kills itself, so only one try of one
task dies (the re-run tests kill a task of a real scheduler's run after its work, then watch its retry). The same
file naming ``skip:<point>`` makes :func:`skip_point` true once: a write that is dropped instead of a process that
dies (a DAG callback the dag-processor lost, health/dag_callbacks.py).
"""

from __future__ import annotations

import logging
import os
import signal
from collections import Counter
from pathlib import Path

log = logging.getLogger(__name__)

CRASH_VARIABLE = "GA_INGEST_CRASH_AT"
CRASH_FILE_VARIABLE = "GA_CRASH_AT_FILE"
_reached: Counter = Counter()


def crash_point(name: str, before_kill=None) -> None:
    """SIGKILL this process here if ``GA_INGEST_CRASH_AT`` names this point (and this is the n-th visit), or if
    the file named by ``GA_CRASH_AT_FILE`` does (once, whatever the process: the file is removed first)."""
    if not (_armed_by_variable(name) or _armed_by_file(name)):
        return
    if before_kill is not None:
        before_kill()
    log.warning("crash point %s reached: killing the process", name)
    os.kill(os.getpid(), signal.SIGKILL)


def skip_point(name: str) -> bool:
    """True once, when the file named by ``GA_CRASH_AT_FILE`` says ``skip:<name>`` (removed first): the caller
    skips its work there, as if it had been lost. False otherwise (inert unless the file is armed)."""
    if not _armed_by_file(f"skip:{name}"):
        return False
    log.warning("skip point %s reached: its work is dropped", name)
    return True


def _armed_by_variable(name: str) -> bool:
    point, _, nth = os.environ.get(CRASH_VARIABLE, "").partition("@")
    if point != name:
        return False
    _reached[name] += 1
    return _reached[name] == int(nth or 1)


def _armed_by_file(name: str) -> bool:
    path = os.environ.get(CRASH_FILE_VARIABLE)
    if not path:
        return False
    try:
        if Path(path).read_text().strip() != name:
            return False
        Path(path).unlink()
    except FileNotFoundError:  # absent, or another process reached it first: that one dies, this one goes on
        return False
    return True
