"""Old home of the Avro codec, now :mod:`game_analytics.events.avro` (part of the event contract).

Kept only because ``tests/ingest/test_schema_registry.py`` still imports the codec from here; delete this module
once it imports from :mod:`game_analytics.events.avro`. Nothing in the package imports it.
"""

from game_analytics.events.avro import (  # noqa: F401 - re-exported for the importer named above
    HEADER,
    MAGIC,
    AvroDecodeError,
    MalformedParametersError,
    TruncatedAvroError,
    UnknownSchemaIdError,
    confluent_header,
    decode_confluent_avro,
    encode_avro_body,
    encode_confluent_avro,
    event_to_record,
    record_to_event,
)
