"""The simulated player base: who plays, on what, from where, and how well.

Players are drawn from their own seeded stream (``"<seed>:players"``), one after another, so player *i* is the
same whatever the roster size: a bigger simulation extends a smaller one instead of reshuffling it.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta

from game_analytics.reference import countries, devices, ip_networks

PLATFORM_WEIGHTS = {"ios": 42, "android": 48, "web": 10}
# Big markets dominate downloads; every other listed country has weight 1.
COUNTRY_WEIGHTS = {"US": 14, "BR": 6, "IN": 6, "DE": 5, "GB": 5, "JP": 5, "MX": 4, "FR": 4, "ID": 3, "KR": 3}
APP_VERSIONS = {"3.4.2": 15, "3.5.0": 45, "3.5.1": 40}
# Real but unlisted models: their events get device_category/tier "unknown".
UNLISTED_ANDROID_MODELS = ("Infinix HOT 40", "TECNO SPARK 20", "SM-X910 Prototype")
SPENDER_SHARE = 0.06
PRE_EXISTING_SHARE = 0.75  # the rest install during the simulated days


@dataclass
class Player:
    """One player; ``level`` is mutable progress (the next level to play) carried from day to day."""

    user_id: str
    install_date: date
    platform: str
    country: str | None
    device_model: str
    app_version: str
    ip_address: str | None
    skill: float  # 0..1, raises the pass probability
    engagement: float  # 0..1, the chance of playing on a given day (before churn decay)
    spender: bool
    level: int = 1


def _weighted(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _models_by_platform() -> dict[str, list[str]]:
    by_platform: dict[str, list[str]] = {"ios": [], "android": [], "web": []}
    for device in devices():
        if device.category == "desktop":
            by_platform["web"].append(device.model)
        elif device.model.startswith(("iPhone", "iPad")):
            by_platform["ios"].append(device.model)
        else:
            by_platform["android"].append(device.model)
    return by_platform


def _ip_address(rng: random.Random, region: str | None) -> str:
    networks = [net for net, net_region in ip_networks() if net_region == region] or [net for net, _ in ip_networks()]
    network = rng.choice(networks)
    return str(network[rng.randint(1, min(254, network.num_addresses - 2))])


def make_players(seed: int, count: int, start_date: date, days: int) -> list[Player]:
    """``count`` players; most installed before ``start_date``, some during the ``days`` simulated."""
    rng = random.Random(f"{seed}:players")
    models = _models_by_platform()
    country_weights = {code: COUNTRY_WEIGHTS.get(code, 1) for code in countries()}
    players = []
    for _ in range(count):
        platform = _weighted(rng, PLATFORM_WEIGHTS)
        model = rng.choice(models[platform])
        if platform == "android" and rng.random() < 0.03:
            model = rng.choice(UNLISTED_ANDROID_MODELS)
        country: str | None = _weighted(rng, country_weights)
        # Web clients often cannot tell their country; then only the IP (if any) gives the region.
        if rng.random() < (0.3 if platform == "web" else 0.03):
            country = None
        has_ip = rng.random() < 0.4 or country is None
        engagement = rng.betavariate(2.0, 2.5)
        if rng.random() < PRE_EXISTING_SHARE:
            age = rng.randint(1, 120)
            level = 1 + min(150, int(age * engagement * rng.uniform(0.3, 1.5)))
        else:
            age, level = -int(rng.random() * days), 1
        players.append(
            Player(
                user_id=f"u_{rng.getrandbits(64):016x}",
                install_date=start_date - timedelta(days=age),
                platform=platform,
                country=country,
                device_model=model,
                app_version=_weighted(rng, APP_VERSIONS),
                ip_address=_ip_address(rng, countries().get(country or "")) if has_ip else None,
                skill=rng.betavariate(2.5, 2.5),
                engagement=engagement,
                spender=rng.random() < SPENDER_SHARE,
                level=level,
            )
        )
    return players
