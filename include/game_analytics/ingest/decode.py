"""Framing: turn raw Kafka values into JSON text for the batch validator, or reject them here.

Per message this does only what cannot be done in bulk: look at the first byte, check the size, and decode
Avro. Valid JSON stays untouched text (DuckDB parses it later, a whole batch at a time); an Avro record is
decoded with the shipped schemas and re-serialised as JSON, so both wire formats go through one validator and
one enrichment, and cannot drift apart.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from game_analytics.events.reasons import Reason
from game_analytics.producer.avro import AvroDecodeError, decode_confluent_avro
from game_analytics.schemas import SCHEMAS

MAX_MESSAGE_BYTES = 64 * 1024  # the spec's limit on a message value
_WHITESPACE = b" \t\r\n"


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why the message at ``index`` of a batch goes to the dead-letter path."""

    index: int
    reason: Reason
    text: str


@dataclass
class Decoded:
    """``texts[i]`` is message i as JSON text, or None when ``rejections`` holds it."""

    texts: list[str | None]
    rejections: list[Rejection]
    avro: int = 0


def _avro_to_json(value: bytes, schemas: Mapping[int, Any]) -> str:
    return json.dumps(decode_confluent_avro(value, schemas), separators=(",", ":"), ensure_ascii=False)


def decode_values(values: list[bytes | None], schemas: Mapping[int, Any] = SCHEMAS) -> Decoded:
    """Classify every value of a batch by its first byte; JSON text is checked for UTF-8 only.

    ``schemas`` maps Avro schema ids to writer schemas (see ``ingest/schema_registry.py``).
    """
    texts: list[str | None] = [None] * len(values)
    rejections: list[Rejection] = []
    avro = 0
    for i, value in enumerate(values):
        if not value:
            rejections.append(Rejection(i, Reason.INVALID_ENCODING, "empty message value (tombstone)"))
            continue
        if len(value) > MAX_MESSAGE_BYTES:
            rejections.append(
                Rejection(i, Reason.OVERSIZE, f"{len(value)} bytes is more than the {MAX_MESSAGE_BYTES}-byte limit")
            )
            continue
        first = value[:1]
        if first == b"{" or (first in _WHITESPACE and value.lstrip(_WHITESPACE)[:1] == b"{"):
            try:
                texts[i] = value.decode("utf-8")
            except UnicodeDecodeError as exc:
                rejections.append(Rejection(i, Reason.MALFORMED_JSON, f"JSON text is not UTF-8: {exc}"))
        elif first == b"\x00":
            try:
                texts[i] = _avro_to_json(value, schemas)
                avro += 1
            except AvroDecodeError as exc:
                rejections.append(Rejection(i, exc.reason, str(exc)))
        else:
            rejections.append(
                Rejection(i, Reason.INVALID_ENCODING, f"first byte {first!r} is neither '{{' (JSON) nor 0x00 (Avro)")
            )
    return Decoded(texts, rejections, avro)


def text_or_base64(value: bytes | None) -> tuple[str | None, str | None]:
    """(value as text, "utf-8") when it decodes, else (base64, "base64"); (None, None) for no value."""
    if value is None:
        return None, None
    try:
        return value.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(value).decode("ascii"), "base64"
