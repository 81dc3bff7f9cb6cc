"""Reason codes of rejected messages: the `reason` column of `events_dlq` and the DLQ header.

The values are a contract (dashboards and alerts group by them): add new members, never rename one. The
producer plants bad messages under these same codes, so a test can check that ingestion rejects each planted
message for the planted reason.
"""

from __future__ import annotations

from enum import StrEnum


class Reason(StrEnum):
    # The message cannot be decoded into an event object.
    MALFORMED_JSON = "malformed_json"
    TRUNCATED_AVRO = "truncated_avro"
    UNKNOWN_SCHEMA_ID = "unknown_schema_id"
    NOT_AN_OBJECT = "not_an_object"
    INVALID_ENCODING = "invalid_encoding"
    OVERSIZE = "oversize"
    # The event object breaks a rule of the contract.
    MISSING_FIELD = "missing_field"
    WRONG_TYPE = "wrong_type"
    UNKNOWN_EVENT_TYPE = "unknown_event_type"
    INVALID_TIMESTAMP = "invalid_timestamp"
    TIMESTAMP_TOO_FAR_AHEAD = "timestamp_too_far_ahead"
    TIMESTAMP_TOO_OLD = "timestamp_too_old"
    INVALID_LEVEL_ID = "invalid_level_id"
    INVALID_PRICE = "invalid_price"
    # The ingestion code itself failed on the message (the reason text names the exception): a defect to fix, kept
    # here so that one message the code cannot handle never stops the batch it arrived in.
    PROCESSING_ERROR = "processing_error"
