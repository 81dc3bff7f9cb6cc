"""A deterministic day-by-day simulation of a match-3 game's players, as contract events.

Everything random comes from ``random.Random`` streams seeded from the seed (players) and from the seed and
the day (each day's play), never the global generator or the clock, so a seed reproduces the same event ids,
timestamps and outcomes on every machine. The model is simple but has the shapes the metrics look for:
pass rates fall with the level, boosters help, failed levels are retried, few players pay, and free promos
show up as zero-priced purchases.

Volume: about :data:`APPROX_EVENTS_PER_PLAYER_DAY` events per rostered player and day (roughly 30 % of the
roster plays on a given day, ~1.8 sessions and ~19 events each); generation runs at ~30k events/s.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from game_analytics.events.contract import EVENT_NAMES, EventType
from game_analytics.producer.players import Player, make_players

APPROX_EVENTS_PER_PLAYER_DAY = 6

BOOSTERS = ("hammer", "shuffle", "extra_moves", "color_bomb", "rainbow_swap")
# (price_usd, product_id, weight); the 0.0 tier is the free daily promo, still a purchase event.
PRICE_TIERS = (
    (0.99, "gems_small", 40),
    (4.99, "gems_medium", 26),
    (9.99, "booster_bundle", 14),
    (19.99, "gems_mega", 6),
    (0.0, "promo_daily_gift", 14),
)
# Relative chance that a session starts in each UTC hour (an evening peak, a quiet night).
HOUR_WEIGHTS = (3, 2, 1, 1, 1, 1, 2, 4, 5, 5, 5, 6, 7, 6, 6, 6, 7, 8, 10, 12, 12, 10, 7, 5)
DAY_SECONDS = 86_400
_UUID_MASK = ~((0xC000 << 48) | (0xF000 << 64)) & ((1 << 128) - 1)
_UUID_V4 = (0x8000 << 48) | (4 << 76)


def level_difficulty(level_id: int) -> float:
    """Grows steadily with the level; every tenth level is a "hard level" spike."""
    return level_id / 30 + (0.7 if level_id % 10 == 0 else 0.0)


def pass_probability(level_id: int, skill: float, boosters: int) -> float:
    """Logistic in skill, difficulty and the number of boosters used."""
    return 1 / (1 + math.exp(-(1.6 + 2.5 * (skill - 0.5) - level_difficulty(level_id) + 0.6 * boosters)))


def _plays_today(rng: random.Random, player: Player, day: date) -> bool:
    age = (day - player.install_date).days
    if age < 0:
        return False
    # Always on install day; afterwards engagement decays towards a floor (churn).
    return age == 0 or rng.random() < player.engagement * (0.55 + 0.45 * math.exp(-age / 14))


class _DayWriter:
    """Builds one player's events of one day; ``t`` is the current second of the day."""

    def __init__(self, rng: random.Random, player: Player, day: date, out: list):
        self.rng, self.player, self.out = rng, player, out
        self.prefix = f"{day.isoformat()}T"
        self.session_id: str | None = None
        self.t = 0
        client = ("platform", "app_version", "country", "device_model")
        self.client_fields = {k: getattr(player, k) for k in client if getattr(player, k) is not None}

    def uuid(self) -> str:
        # Same string as str(uuid.UUID(int=bits, version=4)), at a fraction of the cost.
        h = f"{(self.rng.getrandbits(128) & _UUID_MASK) | _UUID_V4:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"

    def emit(self, code: EventType, parameters: dict[str, Any] | None = None) -> None:
        """Append an event at second ``t`` (plus random milliseconds); absent optional fields are left out."""
        rng = self.rng
        millis = self.t * 1000 + rng.randrange(1000)
        seconds, ms = divmod(millis, 1000)
        hours, rest = divmod(seconds, 3600)
        event: dict[str, Any] = {"event_id": self.uuid(), "user_id": self.player.user_id}
        if self.session_id:
            event["session_id"] = self.session_id
        event["event_type"] = int(code)  # a plain int: events are JSON-ready data
        event["event_name"] = EVENT_NAMES[code]
        event["timestamp"] = f"{self.prefix}{hours:02d}:{rest // 60:02d}:{rest % 60:02d}.{ms:03d}Z"
        if parameters is not None:  # session_start sends no parameters at all, as some clients do
            event["parameters"] = parameters
        event.update(self.client_fields)
        if self.player.ip_address and rng.random() < 0.5:
            event["ip_address"] = self.player.ip_address
        self.out.append((millis, len(self.out), event))

    def purchase(self) -> None:
        price, product, _ = self.rng.choices(PRICE_TIERS, weights=[w for *_, w in PRICE_TIERS])[0]
        self.emit(EventType.PURCHASE, {"product_id": product, "price_usd": price, "currency": "USD"})

    def attempt(self, limit: int) -> bool:
        """One level attempt; False when the session ends (out of time, app closed, or gave up)."""
        rng, player = self.rng, self.player
        level = player.level
        if level > 1 and rng.random() < 0.05:  # replaying an earlier level for a better score
            level = rng.randint(max(1, level - 5), level - 1)
        boosters = rng.sample(BOOSTERS, rng.choice((1, 1, 2))) if rng.random() < 0.2 else []
        duration = int(rng.uniform(40, 150) * (1 + level / 60))
        if self.t + duration + 30 > limit:
            return False
        self.emit(EventType.LEVEL_START, {"level_id": level})
        if rng.random() < 0.02:  # closed the app mid-level: a start without an outcome
            self.t += rng.randint(5, duration)
            return False
        self.t += duration
        max_moves = 20 + level // 4 + (5 if "extra_moves" in boosters else 0)
        outcome = {"level_id": level, "time_seconds": duration, "boosters_used": boosters}
        if rng.random() < pass_probability(level, player.skill, len(boosters)):
            moves = rng.randint(max(5, max_moves // 3), max_moves)
            score = 1000 + 120 * (max_moves - moves) + 10 * level + rng.randrange(400)
            self.emit(EventType.LEVEL_COMPLETE, {**outcome, "moves_used": moves, "score": score})
            if level == player.level:
                player.level += 1
            keep_playing = True
        else:
            self.emit(EventType.LEVEL_FAIL, {**outcome, "moves_used": max_moves})
            keep_playing = rng.random() < 0.75  # else gives up; the level is retried next session
        self.t += rng.randint(4, 25)
        return keep_playing

    def session(self, start: int, limit: int) -> None:
        rng = self.rng
        self.session_id, self.t = self.uuid(), start
        self.emit(EventType.SESSION_START)
        self.t += rng.randint(3, 20)
        buy_chance = 0.06 if self.player.spender else 0.003
        for _ in range(rng.randint(2, 10)):
            if rng.random() < buy_chance:
                self.purchase()
                self.t += rng.randint(5, 40)
            if not self.attempt(limit):
                break
        self.t = min(self.t, limit)
        self.emit(EventType.SESSION_END, {"duration_sec": self.t - start})
        self.session_id = None


def _session_starts(rng: random.Random) -> list[int]:
    sessions = rng.choices((1, 2, 3), weights=(45, 35, 20))[0]
    hours = set(rng.choices(range(24), weights=HOUR_WEIGHTS, k=sessions))
    return sorted(hour * 3600 + rng.randrange(3000) for hour in hours)


def simulate_day(seed: int, day: date, roster: list[Player]) -> list[dict[str, Any]]:
    """Every event of ``day`` for the roster, ordered by timestamp; advances the players' progress."""
    rng = random.Random(f"{seed}:{day.isoformat()}")
    keyed: list[tuple[int, int, dict[str, Any]]] = []
    for player in roster:
        if not _plays_today(rng, player, day):
            continue
        writer = _DayWriter(rng, player, day, keyed)
        starts = _session_starts(rng)
        # Each session must end before the next one starts, and the last before midnight.
        for start, next_start in zip(starts, [*starts[1:], DAY_SECONDS], strict=True):
            writer.session(start, next_start - 60)
    keyed.sort(key=lambda item: (item[0], item[1]))
    return [event for *_, event in keyed]


def generate_events(seed: int, start_date: date, days: int, players: int) -> Iterator[dict[str, Any]]:
    """Events of ``players`` players over ``days`` days from ``start_date``; each day's events in time order.

    Events are JSON-ready dicts in the shape of the contract (timestamps ISO-8601 with ``Z``).
    """
    roster = make_players(seed, players, start_date, days)
    for offset in range(days):
        yield from simulate_day(seed, start_date + timedelta(days=offset), roster)
