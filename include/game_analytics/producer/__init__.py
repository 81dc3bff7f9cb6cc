"""A deterministic game-event producer: simulated players, their events, and Kafka messages of them.

``generate_events`` simulates; ``make_messages`` encodes (JSON/Avro) and plants bad messages; ``produce``
sends to Kafka. ``python -m game_analytics.producer --help`` does all three from the command line. The contract
it writes by and the Avro codec are :mod:`game_analytics.events.contract` and :mod:`game_analytics.events.avro`.
"""

from game_analytics.producer.bad_messages import BAD_KINDS, bad_message
from game_analytics.producer.kafka import produce
from game_analytics.producer.messages import ProducedMessage, make_messages
from game_analytics.producer.simulation import APPROX_EVENTS_PER_PLAYER_DAY, generate_events

__all__ = [
    "APPROX_EVENTS_PER_PLAYER_DAY",
    "BAD_KINDS",
    "ProducedMessage",
    "bad_message",
    "generate_events",
    "make_messages",
    "produce",
]
