"""Framing: turn raw Kafka values into one Arrow column of JSON text for the batch validator, or reject them here.

Per message this does only what cannot be done in bulk: look at the first byte and the size, and decode Avro.
Valid JSON stays untouched bytes (DuckDB parses it later, a whole batch at a time); an Avro record is decoded
with the shipped schemas and re-serialised as JSON, so both wire formats go through one validator and one
enrichment, and cannot drift apart.

The column is built from one joined buffer (see ``columns.py``), never from a list of Python strings.

Whatever an Avro value holds, decoding it ends in JSON bytes or a rejection, never in an exception: a value the
decoder cannot handle (``parameters_json`` nested deeper than Python's recursion limit, a bug) is a
``processing_error`` dead letter. A Schema Registry that does not answer is no fault of the value: that raises
:class:`~game_analytics.ingest.schema_registry.SchemaRegistryUnavailable` and fails the run.

DuckDB's JSON reader is lenient (NaN, Infinity, trailing commas); :func:`strictness_problem` is the exact check
the validator runs on the few messages its prefilter flags.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any

import pyarrow as pa

from game_analytics.events.avro import AvroDecodeError, decode_confluent_avro
from game_analytics.events.contract import MAX_MESSAGE_BYTES
from game_analytics.events.reasons import Reason
from game_analytics.ingest.columns import utf8_array
from game_analytics.ingest.schema_registry import SchemaRegistryUnavailable
from game_analytics.schemas import SCHEMAS

_WHITESPACE = b" \t\r\n"
_OPEN_BRACE = ord("{")
MAX_ERROR_TEXT = 500  # characters of an exception's text kept in a processing_error's reason text
# Outside JSON strings, strict JSON has no letters but true/false/null and exponents: a NaN or Infinity literal
# (any case, as yyjson accepts them) or a comma before a closing bracket is what lenient parsers let through.
_JSON_STRING = re.compile(r'"(?:[^"\\]+|\\.)*"')
_NOT_STRICT = re.compile(r"-?(?i:nan|inf(?:inity)?)|,\s*[\]}]")


@dataclass(frozen=True, slots=True)
class Rejection:
    """Why the message at ``index`` of a batch goes to the dead-letter path."""

    index: int
    reason: Reason
    text: str
    event_date: date | None = None  # the UTC day of the event's timestamp, when it could be read


@dataclass
class Decoded:
    """``texts`` holds the JSON text of the messages at ``kept`` (batch indices, ascending); the rest are in
    ``rejections``."""

    kept: list[int]
    texts: pa.LargeStringArray
    rejections: list[Rejection]
    avro: int = 0

    def text(self, index: int) -> str | None:
        """Message ``index`` as JSON text, or None when it was rejected here (for tests and logs)."""
        try:
            return self.texts[self.kept.index(index)].as_py()
        except ValueError:
            return None


def error_text(exc: BaseException) -> str:
    """An exception as a reason text: its class and message, truncated."""
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= MAX_ERROR_TEXT else text[: MAX_ERROR_TEXT - 3] + "..."


def strictness_problem(text: str) -> str | None:
    """What makes ``text`` (JSON that DuckDB's lenient reader accepted) not strict JSON, or None when it is strict.

    Non-recursive, so any nesting depth is fine; strings are blanked first, so their content never counts."""
    found = _NOT_STRICT.search(_JSON_STRING.sub('""', text))
    if found is None:
        return None
    token = found.group()
    if token.startswith(","):
        return "a trailing comma is not JSON"
    return f"{token} is not a JSON value (NaN and Infinity are not JSON)"


def _avro_to_json(index: int, value: bytes, schemas: Mapping[int, Any]) -> bytes | Rejection:
    try:
        event = decode_confluent_avro(value, schemas)
        return json.dumps(event, separators=(",", ":"), ensure_ascii=False).encode()
    except AvroDecodeError as exc:
        return Rejection(index, exc.reason, str(exc))
    except UnicodeEncodeError as exc:  # a lone surrogate, from a "\ud800" escape in parameters_json
        return Rejection(index, Reason.MALFORMED_JSON, f"not valid JSON text (lone surrogate): {error_text(exc)}")
    except SchemaRegistryUnavailable:
        raise  # infrastructure, not the message: the run fails and the batch is read again
    except Exception as exc:  # noqa: BLE001 - RecursionError (deep parameters_json) or a bug: never stop the batch
        return Rejection(index, Reason.PROCESSING_ERROR, f"decoding the Avro record failed: {error_text(exc)}")


def _frame(index: int, value: bytes | None, schemas: Mapping[int, Any]) -> bytes | Rejection | None:
    """The slow path, for a value that is not plain JSON: its JSON bytes (Avro), its rejection, or None when it is
    JSON after leading whitespace (kept as it is)."""
    if not value:
        return Rejection(index, Reason.INVALID_ENCODING, "empty message value (tombstone)")
    if len(value) > MAX_MESSAGE_BYTES:
        return Rejection(index, Reason.OVERSIZE, f"{len(value)} bytes is more than the {MAX_MESSAGE_BYTES}-byte limit")
    first = value[:1]
    if first in _WHITESPACE and value.lstrip(_WHITESPACE)[:1] == b"{":
        return None
    if first == b"\x00":
        return _avro_to_json(index, value, schemas)
    return Rejection(index, Reason.INVALID_ENCODING, f"first byte {first!r} is neither '{{' (JSON) nor 0x00 (Avro)")


def _not_utf8(index: int, value: bytes) -> Rejection | None:
    try:
        value.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejection(index, Reason.MALFORMED_JSON, f"JSON text is not UTF-8: {exc}")
    return None


def decode_values(values: list[bytes | None], schemas: Mapping[int, Any] = SCHEMAS) -> Decoded:
    """Classify every value of a batch by its first byte and size; JSON text is checked for UTF-8 only.

    ``schemas`` maps Avro schema ids to writer schemas (see ``ingest/schema_registry.py``).
    """
    rejections: list[Rejection] = []
    framed: dict[int, bytes] = {}  # Avro messages, as JSON
    for i, value in enumerate(values):
        if value and value[0] == _OPEN_BRACE and len(value) <= MAX_MESSAGE_BYTES:
            continue  # plain JSON: the common case stays this cheap
        outcome = _frame(i, value, schemas)
        if isinstance(outcome, Rejection):
            rejections.append(outcome)
        elif outcome is not None:
            framed[i] = outcome
    rejected = {r.index for r in rejections}
    kept = [i for i in range(len(values)) if i not in rejected] if rejected else list(range(len(values)))
    texts = [framed.get(i) or values[i] for i in kept] if framed else [values[i] for i in kept]
    try:
        column = utf8_array(texts)
    except pa.ArrowInvalid:  # some text is not UTF-8: find which, the slow way
        bad = {i: r for i, r in ((i, _not_utf8(i, t)) for i, t in zip(kept, texts, strict=True)) if r is not None}
        rejections = sorted([*rejections, *bad.values()], key=lambda r: r.index)
        texts = [t for i, t in zip(kept, texts, strict=True) if i not in bad]
        kept = [i for i in kept if i not in bad]
        column = utf8_array(texts)
    return Decoded(kept, column, rejections, avro=len(framed))


def text_or_base64(value: bytes | None) -> tuple[str | None, str | None]:
    """(value as text, "utf-8") when it decodes, else (base64, "base64"); (None, None) for no value."""
    if value is None:
        return None, None
    try:
        return value.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(value).decode("ascii"), "base64"
