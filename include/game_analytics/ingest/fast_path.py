"""The validator's fast path, first half: which messages of a batch are strictly typed, by msgspec.

The precise validator (:func:`~game_analytics.ingest.validate.checked_sql`) reads every field as a JSON fragment to
learn its type, reads each string again, and scans every message for NaN, Infinity and trailing commas (DuckDB's
reader accepts them, the spec does not): about 4 µs per message, most of a batch's CPU. Nearly every message of a
real batch is valid, and for those the types and the strictness can be settled at once:

1. :func:`strictly_typed` decodes each message with msgspec, a strict JSON parser (no NaN, Infinity, trailing
   commas or lone surrogates), into the contract's JSON types: the required fields present with their types, the
   optional ones strings or null, ``parameters`` any JSON. About 0.7 µs a message, and nothing it builds outlives
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


def strictly_typed(column: pa.LargeStringArray) -> pa.BooleanArray:
    """Per message of ``column``: True when it is one strict JSON object with the contract's types (see above);
    False for a null (a message rejected when decoding) and for anything msgspec refuses.

    The texts are read in place, as slices of the column's buffer; numpy and Arrow buffers only (``pa.array`` would
    import pandas on its first call)."""
    count = len(column)
    bitmap, offsets, data = column.buffers()
    offsets = np.frombuffer(offsets, dtype=np.int64, count=count + 1, offset=column.offset * 8).tolist()
    text = memoryview(data or b"")
    decode, typed = _DECODE, []
    for i, (start, end) in enumerate(zip(offsets[:-1], offsets[1:], strict=True)):
        try:
            decode(text[start:end])
        except (msgspec.DecodeError, RecursionError):  # RecursionError: nested deeper than msgspec goes
            continue
        typed.append(i)
    mask = np.zeros(count, dtype=bool)
    mask[typed] = True
    if bitmap is not None:  # a null's bytes may still be there: it is not typed
        mask &= np.unpackbits(np.frombuffer(bitmap, dtype=np.uint8), bitorder="little")[column.offset :][:count] == 1
    return pa.Array.from_buffers(pa.bool_(), count, [None, pa.py_buffer(np.packbits(mask, bitorder="little"))])
