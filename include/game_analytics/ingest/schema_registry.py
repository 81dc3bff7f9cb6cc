"""Avro writer schemas by id: the shipped ones, or a Confluent Schema Registry when one is configured.

Production producers register their schemas, so the ids in the wire format are the registry's; then the
registry (``GA_SCHEMA_REGISTRY_URL``, optional ``user:secret`` in ``GA_SCHEMA_REGISTRY_BASIC_AUTH``, never in the
repository) is the authority and the shipped files are not consulted: the same id could mean another schema.
Without a registry the shipped schemas (``game_analytics/schemas``) are the whole set.

An id the registry does not know is a bad message (dead letter, ``unknown_schema_id``). A registry that cannot be
reached is not: it raises :class:`SchemaRegistryUnavailable`, the run fails before anything is committed, and the
batch is read again by the next run. A registry outage must never dead-letter good events.
"""

from __future__ import annotations

import base64
import json
import os
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from typing import Any

import fastavro

from game_analytics.schemas import SCHEMAS


class SchemaRegistryUnavailable(RuntimeError):
    """The registry did not answer (network, 5xx, auth): retry later, do not dead-letter."""


class RegistrySchemas(Mapping[int, Any]):
    """A lazily filled, cached mapping ``schema id -> parsed Avro schema`` backed by ``GET /schemas/ids/{id}``."""

    def __init__(self, url: str, basic_auth: str | None = None, timeout: float = 10.0):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._auth = "Basic " + base64.b64encode(basic_auth.encode()).decode() if basic_auth else None
        self._known: dict[int, Any] = {}
        self._missing: set[int] = set()

    def _fetch(self, schema_id: int) -> Any | None:
        """The parsed schema, None when the registry says it has no such id; anything else raises Unavailable.

        Only the registry's own "not found" (error_code 40403) makes an id unknown: a 404 from a wrong URL or a
        proxy, an answer without a schema, or a schema we cannot parse would otherwise dead-letter good events.
        """
        request = urllib.request.Request(f"{self.url}/schemas/ids/{schema_id}", headers={"Accept": "application/json"})
        if self._auth:
            request.add_header("Authorization", self._auth)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as resp:  # noqa: S310 - configured URL
                body = json.load(resp)
        except urllib.error.HTTPError as exc:
            if exc.code == 404 and _error_code(exc) == 40403:
                return None
            message = f"schema registry {self.url} answered {exc.code} for id {schema_id}"
            raise SchemaRegistryUnavailable(message) from exc
        except (urllib.error.URLError, TimeoutError, OSError, ValueError) as exc:
            raise SchemaRegistryUnavailable(f"schema registry {self.url} unreachable: {exc}") from exc
        if not isinstance(body, dict) or not isinstance(body.get("schema"), str):
            raise SchemaRegistryUnavailable(f"{self.url} answered id {schema_id} without a schema: is it a registry?")
        if body.get("schemaType", "AVRO") != "AVRO":
            return None  # a JSON-Schema or Protobuf id cannot frame an Avro event
        try:
            return fastavro.parse_schema(json.loads(body["schema"]))
        except Exception as exc:  # noqa: BLE001 - fastavro raises several kinds (e.g. UnknownType for references)
            raise SchemaRegistryUnavailable(f"schema id {schema_id} from {self.url} is not usable: {exc}") from exc

    def __getitem__(self, schema_id: int) -> Any:
        if schema_id in self._known:
            return self._known[schema_id]
        if schema_id in self._missing:
            raise KeyError(schema_id)
        schema = self._fetch(schema_id)
        if schema is None:
            self._missing.add(schema_id)  # for this run: a registration later is picked up by the next run
            raise KeyError(schema_id)
        self._known[schema_id] = schema
        return schema

    def __contains__(self, schema_id: object) -> bool:
        try:
            self[schema_id]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[int]:
        return iter(self._known)

    def __len__(self) -> int:
        return len(self._known)


def _error_code(exc: urllib.error.HTTPError) -> int | None:
    try:
        return json.load(exc).get("error_code")
    except (ValueError, AttributeError, OSError):
        return None


def writer_schemas(registry_url: str, environ: Mapping[str, str] | None = None) -> Mapping[int, Any]:
    """The schema set a run decodes Avro with (see the module docstring)."""
    if not registry_url:
        return SCHEMAS
    env = os.environ if environ is None else environ
    return RegistrySchemas(registry_url, env.get("GA_SCHEMA_REGISTRY_BASIC_AUTH") or None)
