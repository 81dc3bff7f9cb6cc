"""The validator's fast path, first half: which messages of a batch are strictly typed, by msgspec.

The precise validator (:func:`~game_analytics.ingest.validate.checked_sql`) reads every field as a JSON fragment to
learn its type, reads each string again, and scans every message for NaN, Infinity and trailing commas (DuckDB's
reader accepts them, the spec does not): about 4 µs per message, most of a batch's CPU. Nearly every message of a
real batch is valid, and for those the types and the strictness can be settled at once:

1. :func:`strictly_typed` decodes each message with msgspec, a strict JSON parser (no NaN, Infinity, trailing
   commas or lone surrogates), into the contract's JSON types: the required fields present with their types, the
   optional ones strings or null, ``parameters`` any JSON. About 0.6 µs a message, and nothing it builds outlives
   the call. A message it refuses is not judged here, only left to the precise path.
2. :func:`~game_analytics.ingest.validate.accepted_sql` reads the strictly typed messages with DuckDB's
   ``from_json`` (one parse into typed columns) and applies the other rules with the precise path's own
   expressions. A message that passes is valid, with the values the precise path gives it: both read it with
   DuckDB's parser, which takes the first of repeated keys in both forms, and msgspec checked every occurrence.
3. Every other message goes through the precise path, which alone writes reasons and their texts.

So the fast path can only move a valid message from one path to the other; the tests compare the two paths
message by message (``tests/ingest/test_fast_path.py``, and the fuzz test's batches).
"""

from __future__ import annotations

from collections.abc import Sequence

import msgspec
import numpy as np
import pyarrow as pa

from game_analytics.events.contract import OPTIONAL_STRINGS, REQUIRED_FIELDS


class _Typed(msgspec.Struct, gc=False):
    """The contract's JSON types (``gc=False``: 200k of these must not wake the cyclic garbage collector)."""

    event_id: str
    user_id: str
    event_type: int
    timestamp: str
    parameters: msgspec.Raw = msgspec.Raw(b"null")  # any JSON (null when absent): its type is a rule of accepted_sql
    session_id: str | None = None
    event_name: str | None = None
    platform: str | None = None
    app_version: str | None = None
    country: str | None = None
    device_model: str | None = None
    ip_address: str | None = None


assert tuple(_Typed.__struct_fields__) == (*REQUIRED_FIELDS, "parameters", *OPTIONAL_STRINGS), "the contract moved"
_DECODE = msgspec.json.Decoder(_Typed).decode
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
    """Per message of ``column``: True when it is one strict JSON object with the contract's types (see above);
    False for a null (a message rejected when decoding) and for anything msgspec refuses.

    ``texts`` are the bytes the column is laid over, one per message (:attr:`.decode.Decoded.framed`): decoding
    them as they are costs a quarter less than slicing each out of the column's buffer. Only numpy and Arrow
    buffers are built (``pa.array`` would import pandas on its first call)."""
    typed, decode = bytearray(len(texts)), _DECODE
    for i, text in enumerate(texts):
        try:
            decode(text)
        except (msgspec.DecodeError, RecursionError):  # RecursionError: nested deeper than msgspec goes
            continue
        typed[i] = 1
    mask = np.frombuffer(typed, dtype=bool)
    bitmap = column.buffers()[0]
    if bitmap is not None:  # a null's bytes are still in ``texts``: it is not typed
        valid = np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")[column.offset :][: len(mask)]
        mask = mask & (valid == 1)
    return pa.Array.from_buffers(pa.bool_(), len(mask), [None, pa.py_buffer(np.packbits(mask, bitorder="little"))])
