"""Command line: simulate game events and send them to Kafka, an NDJSON file, or straight into the warehouse.

    python -m game_analytics.producer --seed 7 --start-date 2026-11-01 --days 3 --players 200 \\
        --format mixed --bad-rate 0.01 --to kafka

``ndjson`` writes one line per message: ``{"key", "value"}`` (``value_base64`` instead when the value is not
UTF-8, e.g. Avro) and ``planted_reason`` for bad messages, i.e. exactly what would go to Kafka.
``warehouse`` loads the valid events only (enriched, idempotently); bad ones are counted and skipped.
The summary of counts goes to stderr.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import sys
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, date, datetime, time, timedelta
from itertools import groupby
from operator import itemgetter

from game_analytics.config import Settings, load_settings
from game_analytics.producer.messages import ProducedMessage, make_messages
from game_analytics.producer.simulation import generate_events


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m game_analytics.producer", description=__doc__.splitlines()[0])
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--start-date", type=date.fromisoformat, required=True)
    p.add_argument("--days", type=int, default=1)
    p.add_argument("--players", type=int, default=200)
    p.add_argument("--format", choices=("json", "avro", "mixed"), default="json")
    p.add_argument("--bad-rate", type=float, default=0.0, help="share of bad messages among all messages")
    p.add_argument("--events-per-second", type=float, default=0.0, help="pace Kafka sending (0 = flat out)")
    p.add_argument("--to", choices=("kafka", "ndjson", "warehouse"), default="kafka")
    p.add_argument("--output", help="the ndjson file (default: stdout)")
    p.add_argument("--bootstrap-servers", help="default: the Airflow Kafka connection from the environment")
    p.add_argument("--topic", help="default: settings.raw_topic")
    p.add_argument(
        "--now",
        type=datetime.fromisoformat,
        help="ingestion time that planted bad timestamps are relative to (default: end of the last day)",
    )
    return p


def _ndjson_line(message: ProducedMessage) -> str:
    line: dict[str, str] = {"key": message.key.decode()}
    try:
        line["value"] = message.value.decode("utf-8")
    except UnicodeDecodeError:
        line["value_base64"] = base64.b64encode(message.value).decode()
    if message.planted_reason:
        line["planted_reason"] = str(message.planted_reason)
    return json.dumps(line, ensure_ascii=False)


def _to_ndjson(messages: Iterable[ProducedMessage], output: str | None) -> None:
    with open(output, "w", encoding="utf-8") if output else contextlib.nullcontext(sys.stdout) as out:
        for message in messages:
            out.write(_ndjson_line(message) + "\n")


def _to_kafka(messages: Iterable[ProducedMessage], args: argparse.Namespace, settings: Settings) -> None:
    from game_analytics.producer.kafka import kafka_config_from_env, produce

    kafka = args.bootstrap_servers or kafka_config_from_env(settings.kafka_conn_id)
    produce(messages, kafka, args.topic or settings.raw_topic, events_per_second=args.events_per_second)


def _to_warehouse(messages: Iterable[ProducedMessage], settings: Settings) -> int:
    from game_analytics.events.enrich import enrich, load_rows
    from game_analytics.warehouse.client import bigquery_client
    from game_analytics.warehouse.schema import create_dataset_and_tables

    client = bigquery_client(settings)
    create_dataset_and_tables(client, settings)
    ingested_at = datetime.now(UTC)  # lineage (when it was stored), not event data
    rows = (enrich(m.event, ingested_at, None) for m in messages if m.event is not None)
    # Events come day by day: one load + MERGE per day keeps each batch to one partition.
    days = groupby(rows, key=itemgetter("event_date"))
    return sum(load_rows(client, settings, list(day_rows)) for _, day_rows in days)


def _counted(messages: Iterable[ProducedMessage], counts: Counter) -> Iterator[ProducedMessage]:
    for message in messages:
        counts[str(message.planted_reason) if message.planted_reason else "valid"] += 1
        yield message


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    settings = load_settings()
    now = args.now or datetime.combine(args.start_date + timedelta(days=args.days), time(), UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    events = generate_events(args.seed, args.start_date, args.days, args.players)
    counts: Counter = Counter()
    messages = _counted(make_messages(events, args.format, args.bad_rate, args.seed, now), counts)
    summary: dict[str, object] = {}
    if args.to == "kafka":
        _to_kafka(messages, args, settings)
    elif args.to == "ndjson":
        _to_ndjson(messages, args.output)
    else:
        summary["inserted"] = _to_warehouse(messages, settings)
    valid = counts.pop("valid", 0)
    bad = dict(sorted(counts.items()))
    summary = {"to": args.to, "valid": valid, "bad": sum(bad.values()), "bad_by_reason": bad, **summary}
    print(json.dumps(summary), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
