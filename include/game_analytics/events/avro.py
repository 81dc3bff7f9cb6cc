"""Confluent wire format for events: ``0x00``, big-endian int32 schema id, then the Avro binary record.

Encoding and decoding live together, beside the contract (:mod:`.contract`) and the shipped schemas
(:mod:`game_analytics.schemas`), so the producer and the ingestion cannot drift apart, and the runtime ingestion
decodes without importing the synthetic-event producer. A decoded message is an event dict shaped like a JSON
message (``parameters`` an object, absent optional fields left out), so the validation after decoding is the same
for both formats.
"""

from __future__ import annotations

import io
import json
import struct
from collections.abc import Mapping
from typing import Any

import fastavro

from game_analytics.events.reasons import Reason
from game_analytics.schemas import GAME_EVENT_V1, SCHEMAS

HEADER = struct.Struct(">Bi")  # magic byte, schema id


class AvroDecodeError(ValueError):
    """The value is not a decodable Avro event; ``reason`` is the DLQ reason code."""

    reason: Reason = Reason.INVALID_ENCODING


class TruncatedAvroError(AvroDecodeError):
    reason = Reason.TRUNCATED_AVRO


class UnknownSchemaIdError(AvroDecodeError):
    reason = Reason.UNKNOWN_SCHEMA_ID


class MalformedParametersError(AvroDecodeError):
    """``parameters_json`` is not strict JSON: the same verdict a JSON message with such parameters gets."""

    reason = Reason.MALFORMED_JSON


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not JSON")


def event_to_record(event: Mapping[str, Any]) -> dict[str, Any]:
    """The Avro record of an event: ``parameters`` becomes the ``parameters_json`` string."""
    record = {k: v for k, v in event.items() if k != "parameters"}
    if event.get("parameters") is not None:
        record["parameters_json"] = json.dumps(event["parameters"], separators=(",", ":"))
    return record


def record_to_event(record: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`event_to_record`; a ``parameters_json`` that is not strict JSON (NaN and Infinity, which
    Python's parser accepts, included) raises :class:`MalformedParametersError`."""
    event = {k: v for k, v in record.items() if v is not None and k != "parameters_json"}
    if record.get("parameters_json") is not None:
        try:
            event["parameters"] = json.loads(record["parameters_json"], parse_constant=_reject_constant)
        except ValueError as exc:
            raise MalformedParametersError(f"parameters_json is not valid JSON: {exc}") from exc
    return event


def encode_avro_body(event: Mapping[str, Any], schema_id: int = GAME_EVENT_V1) -> bytes:
    """The Avro binary record alone (no header); fails if the event does not fit the schema."""
    buffer = io.BytesIO()
    fastavro.schemaless_writer(buffer, SCHEMAS[schema_id], event_to_record(event))
    return buffer.getvalue()


def confluent_header(schema_id: int) -> bytes:
    return HEADER.pack(0, schema_id)


def encode_confluent_avro(event: Mapping[str, Any], schema_id: int = GAME_EVENT_V1) -> bytes:
    return confluent_header(schema_id) + encode_avro_body(event, schema_id)


def decode_confluent_avro(value: bytes, schemas: Mapping[int, Any] = SCHEMAS) -> dict[str, Any]:
    """The event in a Confluent-framed Avro value; trailing bytes after the record are an error too."""
    if len(value) < HEADER.size:
        raise TruncatedAvroError(f"{len(value)} bytes is shorter than the {HEADER.size}-byte header")
    magic, schema_id = HEADER.unpack_from(value)
    if magic != 0:
        raise AvroDecodeError(f"magic byte is {magic:#04x}, expected 0x00")
    if schema_id not in schemas:
        raise UnknownSchemaIdError(f"schema id {schema_id} is not known (known: {sorted(schemas)})")
    size = len(value) - HEADER.size
    body = io.BytesIO(value[HEADER.size :])
    try:
        record = fastavro.schemaless_reader(body, schemas[schema_id], None)
    except Exception as exc:  # noqa: BLE001 - fastavro raises anything from EOFError to UnicodeDecodeError
        # Failing with every byte consumed means the record wanted more (fastavro's C reader then raises
        # IndexError rather than EOFError); failing earlier means the bytes themselves are wrong.
        error = TruncatedAvroError if body.tell() >= size else AvroDecodeError
        raise error(f"undecodable Avro record ({size} bytes): {type(exc).__name__}: {exc}") from exc
    if body.tell() != size:
        raise AvroDecodeError(f"{size - body.tell()} bytes after the Avro record")
    return record_to_event(record)
