"""Reference tables for enrichment: device models, countries and IP prefixes.

The tables are small CSVs shipped inside the package (a worker needs no network or warehouse to enrich) and
are read once per process. Both the Kafka ingestion and the direct warehouse load use these functions, so an
event gets the same ``device_category``/``device_tier``/``region`` whichever path stored it.
"""

from __future__ import annotations

import csv
import ipaddress
from functools import cache
from importlib import resources
from typing import NamedTuple

UNKNOWN = "unknown"


class Device(NamedTuple):
    model: str
    category: str
    tier: str


def _read_csv(name: str) -> list[dict[str, str]]:
    text = resources.files(__package__).joinpath(name).read_text(encoding="utf-8")
    return list(csv.DictReader(text.splitlines()))


@cache
def devices() -> tuple[Device, ...]:
    """Every known device model, in file order (the simulation draws from these)."""
    return tuple(Device(r["device_model"], r["device_category"], r["device_tier"]) for r in _read_csv("devices.csv"))


@cache
def _devices_by_key() -> dict[str, Device]:
    # Clients differ in case and stray spaces; the model itself is otherwise exact.
    return {d.model.strip().casefold(): d for d in devices()}


@cache
def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-2 code -> region."""
    return {r["country"]: r["region"] for r in _read_csv("countries.csv")}


@cache
def ip_networks() -> tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, str], ...]:
    """(network, region) pairs, longest prefix first so the most specific network wins."""
    nets = [(ipaddress.ip_network(r["prefix"]), r["region"]) for r in _read_csv("ip_prefixes.csv")]
    return tuple(sorted(nets, key=lambda item: item[0].prefixlen, reverse=True))


def lookup_device(model: str | None) -> tuple[str, str]:
    """(device_category, device_tier) of a model; ("unknown", "unknown") when missing or not listed."""
    device = _devices_by_key().get(model.strip().casefold()) if isinstance(model, str) else None
    return (device.category, device.tier) if device else (UNKNOWN, UNKNOWN)


def region_for(country: str | None, ip_address: str | None) -> str:
    """Region from the country when it is known, else from the IP prefix, else "unknown"."""
    if isinstance(country, str):
        region = countries().get(country.strip().upper())
        if region:
            return region
    if isinstance(ip_address, str):
        try:
            ip = ipaddress.ip_address(ip_address.strip())
        except ValueError:
            return UNKNOWN
        for network, region in ip_networks():
            if ip.version == network.version and ip in network:
                return region
    return UNKNOWN
