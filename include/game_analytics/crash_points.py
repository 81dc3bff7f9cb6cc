"""A test hook shared by the ingestion and the alert store: kill this process at a named point.

``GA_INGEST_CRASH_AT=<point>[@<n>]`` SIGKILLs the process the n-th time (default: the first) it reaches ``point``
(the ingestion's ``ingest.run.CRASH_POINTS``, the alert store's ``health.alert_store.CRASH_POINTS``). Tests use
it to prove that a crash anywhere loses and repeats nothing; it is inert unless the variable is set. A module of
its own, so the health task does not import the Kafka ingestion to reach it.
"""

from __future__ import annotations

import logging
import os
import signal
from collections import Counter

log = logging.getLogger(__name__)

CRASH_VARIABLE = "GA_INGEST_CRASH_AT"
_reached: Counter = Counter()


def crash_point(name: str, before_kill=None) -> None:
    """SIGKILL this process here if ``GA_INGEST_CRASH_AT`` names this point (and this is the n-th visit)."""
    spec = os.environ.get(CRASH_VARIABLE, "")
    point, _, nth = spec.partition("@")
    if point != name:
        return
    _reached[name] += 1
    if _reached[name] == int(nth or 1):
        if before_kill is not None:
            before_kill()
        log.warning("%s=%s: killing the process", CRASH_VARIABLE, spec)
        os.kill(os.getpid(), signal.SIGKILL)
