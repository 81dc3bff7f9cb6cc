"""Seconds spent per phase of a run, for its report: the ingestion's batches and the health run's steps.

``Laps(into).lap(name)`` adds the time since the previous lap (or since creation) to ``into[name]``, rounded to the
millisecond; setting ``last`` restarts the count without booking it (time spent waiting that no phase owns).
"""

from __future__ import annotations

import time


class Laps:
    def __init__(self, into: dict):
        self.into, self.last = into, time.monotonic()

    def lap(self, name: str) -> None:
        now = time.monotonic()
        self.into[name] = round(self.into.get(name, 0.0) + now - self.last, 3)
        self.last = now
