"""The Avro schemas shipped with the project, by Confluent schema id.

Where no Schema Registry is configured these ids are authoritative; a registered schema must use the same id.
A new schema version gets a new file and a new id here, and the old id stays decodable.
"""

from __future__ import annotations

import json
from importlib import resources

import fastavro

GAME_EVENT_V1 = 1


def _load(name: str):
    return fastavro.parse_schema(json.loads(resources.files(__package__).joinpath(name).read_text("utf-8")))


SCHEMAS = {GAME_EVENT_V1: _load("game_event_v1.avsc")}
