"""Framing: turn raw Kafka values into one Arrow column of JSON text for the batch validator, or reject them here.

Per message this does only what cannot be done in bulk, decode Avro; first bytes and sizes are read for the whole
batch at once.
Valid JSON stays untouched bytes (DuckDB parses it later, a whole batch at a time); an Avro record is decoded
with the shipped schemas and re-serialised as JSON, so both wire formats go through one validator and one
enrichment, and cannot drift apart.

The column is built from one joined buffer (see ``columns.py``), never from a list of Python strings, and the
classification itself is columnar: Python touches only the values that are not plain JSON.

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
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pyarrow as pa

from game_analytics.events.avro import AvroDecodeError, decode_confluent_avro
from game_analytics.events.contract import MAX_MESSAGE_BYTES
from game_analytics.events.reasons import Reason
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
    """``column`` holds one entry per message of the batch: its JSON text, or null where the message was rejected
    here (the reason is in ``rejections``, in batch order)."""

    column: pa.LargeStringArray
    rejections: list[Rejection]
    avro: int = 0
    # The bytes each entry of ``column`` is laid over, one per message (an Avro message's JSON; b"" for none).
    framed: list[bytes] = field(default_factory=list)

    @property
    def kept(self) -> list[int]:
        """Batch indices of the messages that were not rejected here, ascending."""
        rejected = {r.index for r in self.rejections}
        return [i for i in range(len(self.column)) if i not in rejected]

    @property
    def texts(self) -> pa.LargeStringArray:
        """The JSON text of the messages at ``kept``."""
        return self.column.drop_null()

    def text(self, index: int) -> str | None:
        """Message ``index`` as JSON text, or None when it was rejected here (for tests and logs)."""
        return self.column[index].as_py()


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


def _joined(values: list[bytes]) -> tuple[np.ndarray, bytes]:
    """(offsets, data) of the values laid end to end: the buffers of an Arrow (large) string column."""
    offsets = np.zeros(len(values) + 1, dtype=np.int64)
    np.cumsum(np.fromiter(map(len, values), dtype=np.int64, count=len(values)), out=offsets[1:])
    return offsets, b"".join(values)


def _not_plain_json(offsets: np.ndarray, data: bytes) -> np.ndarray:
    """Indices of the values that do not start with '{' or are over the size limit (empty ones included)."""
    lengths = np.diff(offsets)
    first = np.zeros(len(lengths), dtype=np.uint8)
    nonempty = lengths > 0
    first[nonempty] = np.frombuffer(data, dtype=np.uint8)[offsets[:-1][nonempty]]
    return np.flatnonzero((first != _OPEN_BRACE) | (lengths > MAX_MESSAGE_BYTES))


def _column(offsets: np.ndarray, data: bytes, valid: np.ndarray) -> pa.LargeStringArray:
    """The string column over the buffers; null where ``valid`` is False (those bytes are never read again)."""
    bitmap = None if valid.all() else pa.py_buffer(np.packbits(valid, bitorder="little"))
    return pa.LargeStringArray.from_buffers(len(valid), pa.py_buffer(offsets), pa.py_buffer(data), bitmap)


def _utf8_rejections(column: pa.LargeStringArray, texts: list[bytes], chunk: int = 1024) -> list[Rejection]:
    """The non-null values of ``column`` that are not UTF-8: chunks checked in C++, a failing one value by value."""
    found = []
    for start in range(0, len(column), chunk):
        try:
            column.slice(start, chunk).validate(full=True)
        except pa.ArrowInvalid:
            stop = min(start + chunk, len(texts))
            checked = (_not_utf8(i, texts[i]) for i in range(start, stop) if column[i].is_valid)
            found += [r for r in checked if r is not None]
    return found


def decode_values(values: list[bytes | None], schemas: Mapping[int, Any] = SCHEMAS) -> Decoded:
    """Classify every value of a batch by its first byte and size; JSON text is checked for UTF-8 only.

    Whole-batch and columnar: the values are laid end to end once (``b"".join``), their first bytes and sizes read
    with numpy, the UTF-8 check runs in C++ over the whole column, and a rejected value is a null (its bytes stay in
    the buffer, unread). Python looks at a value only when it is not plain JSON (Avro, whitespace first, a
    rejection) or not UTF-8. ``schemas`` maps Avro schema ids to writer schemas (see ``ingest/schema_registry.py``).
    """
    texts = values
    try:
        offsets, data = _joined(texts)
    except TypeError:  # a tombstone (None): len() and join() take bytes only
        texts = [b"" if v is None else v for v in values]
        offsets, data = _joined(texts)
    rejections: list[Rejection] = []
    framed: dict[int, bytes] = {}  # Avro messages, as JSON
    for i in _not_plain_json(offsets, data).tolist():
        outcome = _frame(i, values[i], schemas)
        if isinstance(outcome, Rejection):
            rejections.append(outcome)
        elif outcome is not None:
            framed[i] = outcome
    if framed:  # lay the values out again, each Avro message as its JSON
        texts = list(texts)
        for i, text in framed.items():
            texts[i] = text
        offsets, data = _joined(texts)
    valid = np.ones(len(values), dtype=bool)
    valid[[r.index for r in rejections]] = False
    column = _column(offsets, data, valid)
    try:
        column.validate(full=True)  # the UTF-8 check of every non-null value, in C++
    except pa.ArrowInvalid:  # some text is not UTF-8: find which, a chunk at a time
        bad = _utf8_rejections(column, texts)
        valid[[r.index for r in bad]] = False
        rejections = sorted([*rejections, *bad], key=lambda r: r.index)
        column = _column(offsets, data, valid)
    return Decoded(column, rejections, avro=len(framed), framed=texts)


def text_or_base64(value: bytes | None) -> tuple[str | None, str | None]:
    """(value as text, "utf-8") when it decodes, else (base64, "base64"); (None, None) for no value."""
    if value is None:
        return None, None
    try:
        return value.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(value).decode("ascii"), "base64"
