"""Avro ids resolved through a Schema Registry: known ids decode, unknown ids are dead letters, an outage is not.

No Confluent Schema Registry can be installed here (it is a JVM service, and no PyPI package provides one), so the
registry is a stand-in HTTP server answering the one endpoint the ingestion uses, ``GET /schemas/ids/{id}``, with
the registry's response shape. Everything after the HTTP call is the real code.
"""

from __future__ import annotations

import base64
import json
import threading
from datetime import date
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from game_analytics.events.avro import confluent_header, encode_avro_body
from game_analytics.events.reasons import Reason
from game_analytics.ingest.decode import decode_values
from game_analytics.ingest.schema_registry import RegistrySchemas, SchemaRegistryUnavailable, writer_schemas
from game_analytics.producer import generate_events
from game_analytics.schemas import GAME_EVENT_V1, SCHEMAS

REGISTRY_ID = 100_042  # the id the registry gave our schema: not the shipped id
NOT_A_SCHEMA_ID = 7  # answered 200 without a schema (a proxy, another service)
SCHEMA_TEXT = (Path(__file__).parents[2] / "include/game_analytics/schemas/game_event_v1.avsc").read_text()


class Registry(ThreadingHTTPServer):
    def __init__(self, credentials: str | None = None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.credentials = credentials
        self.requests: list[str] = []
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/"


class _Handler(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - http.server's naming
        server: Registry = self.server  # type: ignore[assignment]
        server.requests.append(self.path)
        expected = "Basic " + base64.b64encode(server.credentials.encode()).decode() if server.credentials else None
        if expected and self.headers.get("Authorization") != expected:
            return self._reply(401, {"error_code": 401, "message": "Unauthorized"})
        if self.path == f"/schemas/ids/{REGISTRY_ID}":
            return self._reply(200, {"schema": SCHEMA_TEXT})
        if self.path == f"/schemas/ids/{NOT_A_SCHEMA_ID}":
            return self._reply(200, {"id": NOT_A_SCHEMA_ID})
        if self.path.startswith("/schemas/ids/"):
            return self._reply(404, {"error_code": 40403, "message": "Schema not found"})
        return self._reply(404, {"error_code": 404, "message": "HTTP 404 Not Found"})  # not a registry path

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/vnd.schemaregistry.v1+json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def events() -> list[dict]:
    return list(generate_events(seed=3, start_date=date(2026, 11, 8), days=1, players=30))[:5]


def framed(event: dict, schema_id: int) -> bytes:
    return confluent_header(schema_id) + encode_avro_body(event, GAME_EVENT_V1)


def test_registry_ids_decode_and_unknown_ids_are_dead_letters(events):
    registry = Registry()
    values = [framed(e, REGISTRY_ID) for e in events] + [framed(events[0], GAME_EVENT_V1)]
    decoded = decode_values(values, RegistrySchemas(registry.url))

    assert decoded.avro == len(events)
    assert [json.loads(decoded.text(i))["event_id"] for i in range(len(events))] == [e["event_id"] for e in events]
    # The shipped id means nothing to the registry: with a registry configured, it is the only authority.
    [rejected] = decoded.rejections
    assert (rejected.index, rejected.reason) == (len(events), Reason.UNKNOWN_SCHEMA_ID)
    assert f"schema id {GAME_EVENT_V1} is not known" in rejected.text
    # One request per id, however many messages carry it.
    assert sorted(registry.requests) == sorted({f"/schemas/ids/{REGISTRY_ID}", f"/schemas/ids/{GAME_EVENT_V1}"})
    registry.shutdown()


def test_an_unreachable_or_refusing_registry_fails_the_batch_instead_of_dead_lettering(events):
    registry = Registry(credentials="ingest:s3cret")
    value = [framed(events[0], REGISTRY_ID)]
    with pytest.raises(SchemaRegistryUnavailable, match="answered 401"):
        decode_values(value, RegistrySchemas(registry.url))
    assert decode_values(value, RegistrySchemas(registry.url, basic_auth="ingest:s3cret")).rejections == []
    registry.shutdown()
    registry.server_close()
    with pytest.raises(SchemaRegistryUnavailable, match="unreachable"):
        decode_values(value, RegistrySchemas(registry.url, timeout=2))


def test_answers_that_are_not_the_registrys_own_not_found_fail_the_batch(events):
    registry = Registry()
    # A wrong base URL: the server's plain 404 is not "schema not found" and must not dead-letter the events.
    with pytest.raises(SchemaRegistryUnavailable, match="answered 404"):
        decode_values([framed(events[0], REGISTRY_ID)], RegistrySchemas(registry.url + "wrong-prefix"))
    with pytest.raises(SchemaRegistryUnavailable, match="without a schema"):
        decode_values([framed(events[0], NOT_A_SCHEMA_ID)], RegistrySchemas(registry.url))
    registry.shutdown()


def test_without_a_registry_the_shipped_schemas_are_the_set():
    assert writer_schemas("") is SCHEMAS
    schemas = writer_schemas("http://registry.example:8081", {"GA_SCHEMA_REGISTRY_BASIC_AUTH": "k:v"})
    assert isinstance(schemas, RegistrySchemas) and schemas.url == "http://registry.example:8081"
