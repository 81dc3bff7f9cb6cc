"""The validator's fast path, first half: which messages of a batch are strictly typed, by msgspec.

The precise validator (:func:`~game_analytics.ingest.validate.checked_sql`) reads every field as a JSON fragment to
learn its type, reads each string again, and scans every message for NaN, Infinity and trailing commas (DuckDB's
reader accepts them, the spec does not): about 4 µs per message, most of a batch's CPU. Nearly every message of a
real batch is valid, and for those the types and the strictness can be settled at once:

1. :func:`strictly_typed` decodes each message with msgspec, a strict JSON parser (no NaN, Infinity, trailing
   commas or lone surrogates), into the struct of its event_type (a known one): the required fields present with
   their types, the optional ones strings or null, ``parameters`` an object or null, and for a level event or a
   purchase an object holding the valid level_id or price_usd its rule asks for (msgspec checks these as it reads
   them, cheaper than DuckDB reading ``parameters`` again). About 0.7 µs a message, and nothing it builds
   outlives the call. A message it refuses is not judged here, only left to the precise path.
2. :func:`~game_analytics.ingest.validate.accepted_sql` reads the strictly typed messages with DuckDB's
   ``from_json`` (one parse into typed columns) and applies the remaining rules (the ids' lengths, the
   timestamp's form and window) with the precise path's own expressions. A message that passes is valid, with
   the values the precise path gives it: both read it with DuckDB's parser, which takes the first of repeated
   keys in both forms, and msgspec checked every occurrence. The rules msgspec alone held (a known event_type,
   level_id, price_usd) rest on msgspec and DuckDB agreeing on numbers at their limits and on escaped keys; the
   tests pin those cases (``tests/ingest/test_fast_path.py``).
3. Every other message goes through the precise path, which alone writes reasons and their texts.

So the fast path can only move a valid message from one path to the other; the tests compare the two paths
message by message (``tests/ingest/test_fast_path.py``, and the fuzz test's batches).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated, Union

import msgspec
import numpy as np
import pyarrow as pa

from game_analytics.events.contract import (
    EVENT_TYPES,
    LEVEL_TYPES,
    OPTIONAL_STRINGS,
    PURCHASE_TYPES,
    REQUIRED_FIELDS,
)

_INT64_MAX = 2**63 - 1
_REQUIRED_STRINGS = [(name, kind) for name, kind in REQUIRED_FIELDS.items() if name != "event_type"]
_OPTIONAL = [(name, str | None, None) for name in OPTIONAL_STRINGS]


class _AnyObject(msgspec.Struct, gc=False):
    """Any JSON object: its members are read (strictly) and skipped."""


class _LevelParameters(msgspec.Struct, gc=False):
    """A level event's parameters: the rule's level_id, an integer in [0, 2^63 - 1]; the rest skipped."""

    level_id: Annotated[int, msgspec.Meta(ge=0, le=_INT64_MAX)]


class _PurchaseParameters(msgspec.Struct, gc=False):
    """A purchase's parameters: the rule's price_usd, a finite number >= 0 (msgspec refuses one beyond a double's
    range, "Number out of range", as DuckDB reads it as infinite); the rest skipped."""

    price_usd: Annotated[float, msgspec.Meta(ge=0)]


def _parameters(event_type: int) -> list[tuple]:
    """The field ``parameters`` of an event type's struct: required with its rule's value, or any object or null.
    A required one goes before the optional fields, as msgspec wants."""
    if event_type in LEVEL_TYPES:
        return [("parameters", _LevelParameters)]
    if event_type in PURCHASE_TYPES:
        return [("parameters", _PurchaseParameters)]
    return [("parameters", _AnyObject | None, None)]


# One struct per event type, told apart by event_type (a tagged union: an unknown code, or two different codes in
# one message, is refused). ``gc=False``: 200k of these must not wake the cyclic garbage collector.
_TYPED = tuple(
    msgspec.defstruct(
        f"_Typed{int(code)}",
        [*_REQUIRED_STRINGS, *_parameters(code), *_OPTIONAL],
        tag_field="event_type",
        tag=int(code),
        gc=False,
    )
    for code in EVENT_TYPES
)
assert REQUIRED_FIELDS["event_type"] is int and all(kind is str for _, kind in _REQUIRED_STRINGS), "the contract moved"
_DECODE = msgspec.json.Decoder(Union[_TYPED]).decode  # noqa: UP007 - a union built from a tuple
# from_json's structure: the same fields, typed; parameters as JSON text (DuckDB's minified form, as json_extract).
TYPED_STRUCTURE = (
    "{"
    + ", ".join(
        f'"{name}": "{"BIGINT" if kind is int else "VARCHAR"}"'
        for name, kind in {**REQUIRED_FIELDS, **dict.fromkeys(OPTIONAL_STRINGS, str)}.items()
    )
    + ', "parameters": "JSON"}'
)


def strictly_typed(texts: Sequence[bytes], column: pa.LargeStringArray) -> pa.BooleanArray:
    """Per message of ``column``: True when it is one strict JSON object of a known event_type with the contract's
    types and its type's level_id or price_usd rule held (see above); False for anything msgspec refuses and for a
    null (a message rejected when decoding, not UTF-8 among them: never given to msgspec, which raises
    ``UnicodeDecodeError`` on such bytes instead of a ``DecodeError``).

    ``texts`` are the bytes the column is laid over, one per message (:attr:`.decode.Decoded.framed`): decoding
    them as they are costs a quarter less than slicing each out of the column's buffer. Only numpy and Arrow
    buffers are built (``pa.array`` would import pandas on its first call)."""
    if len(texts) != len(column):
        raise ValueError(f"{len(texts)} texts for a column of {len(column)} messages")
    typed, decode = bytearray(len(texts)), _DECODE
    bitmap = column.buffers()[0]
    if bitmap is None:
        readable = enumerate(texts)
    else:
        valid = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")[column.offset :]
        readable = ((i, texts[i]) for i in np.flatnonzero(valid[: len(texts)]).tolist())
    for i, text in readable:
        try:
            decode(text)
        except (msgspec.DecodeError, RecursionError):  # RecursionError: nested deeper than msgspec goes
            continue
        typed[i] = 1
    mask = np.frombuffer(typed, dtype=bool)
    return pa.Array.from_buffers(pa.bool_(), len(mask), [None, pa.py_buffer(np.packbits(mask, bitorder="little"))])
