"""Benchmark: the daily run's SQL (every table the daily DAG builds, its checks, the feature export) on the local stack.

    .venv/bin/python benchmarks/daily_sql.py                      # 1M and 10M event days, 30-day history for 1M
    .venv/bin/python benchmarks/daily_sql.py --sizes 200000 --history-days 30 --players 100000

For each day size it loads one day D of synthetic events into a fresh `events` table (through the emulator's
load-job API, as Parquet), then times every SQL step of a daily run exactly as the DAG renders it. Then it loads
`--history-days` more days before D (same size) and times the same steps again: with the `event_date` filter
the cost should stay proportional to one day (goals: 30-day / 1-day ratio <= 1.2; 10M-event day <= 20 s).
The player state (user_lifetime_stats) is built from its partition D-1, which holds ``--players`` players (1M by
default; the day's own users are among them) in both measurements. With ``--player-history`` its partitions of the
``--history-days`` days before hold as many players each too: on BigQuery that changes nothing (every statement
reads D-1 or D), but the emulator copies a whole table before the first DML of a transaction on it
(bqemulator/scripting/interpreter.py, ``_snapshot_dml_targets``), so the atomic replace of partition D costs time
in proportion to the table there: the flag shows that local cost.
Each figure is the median of ``--repeats`` daily runs (default 3): the first run of D inserts, the others replace
the partition, as a rerun or backfill does.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from game_analytics.catalogue import load_catalogue
from game_analytics.config import load_settings
from game_analytics.dag_defaults import DAILY_DAG
from game_analytics.daily.quality import discover_checks
from game_analytics.localstack.environment import StackPorts
from game_analytics.localstack.launcher import LocalStack
from game_analytics.localstack.servers import free_port
from game_analytics.warehouse.client import bigquery_client
from game_analytics.warehouse.schema import create_dataset_and_tables
from game_analytics.warehouse.sql_templates import render_sql

DAY = date(2026, 11, 8)
HISTORY_ROWS_PER_LOAD = 8_000_000

# Events of one day, generated in DuckDB (vectorised): level funnels, sessions and purchases over ~n/20 users.
EVENTS_SQL = """
WITH base AS (
    SELECT i, CAST(hash(i * 7919 + {seed}) >> 1 AS BIGINT) AS h FROM range({n}) t(i)
), typed AS (
    SELECT i, h,
        CASE WHEN h % 100 < 35 THEN 1001 WHEN h % 100 < 60 THEN 1002 WHEN h % 100 < 80 THEN 1003
             WHEN h % 100 < 82 THEN 2001 WHEN h % 100 < 91 THEN 3001 ELSE 3002 END AS event_type
    FROM base
)
SELECT
    printf('ev-{day}-%d', i) AS event_id,
    printf('u%d', (h >> 8) % {users}) AS user_id,
    printf('s%d', (h >> 8) % ({users} * 3)) AS session_id,
    event_type,
    CAST(NULL AS VARCHAR) AS event_name,
    TIMESTAMP '{day} 00:00:00' + to_microseconds(CAST((h >> 20) % 86400000000 AS BIGINT)) AS "timestamp",
    CASE
        WHEN event_type = 1001 THEN printf('{{"level_id": %d}}', (h >> 12) % 200)
        WHEN event_type IN (1002, 1003) THEN printf(
            '{{"level_id": %d, "moves_used": %d, "time_seconds": %d, "boosters_used": %s, "score": %d}}',
            (h >> 12) % 200, (h >> 16) % 40, (h >> 24) % 300,
            CASE WHEN h % 7 = 0 THEN '["hammer"]' ELSE '[]' END, (h >> 28) % 10000)
        WHEN event_type = 2001 THEN printf('{{"product_id": "gems", "price_usd": %.2f, "currency": "USD"}}',
            [0.0, 0.99, 4.99, 9.99][(h >> 12) % 4 + 1])
        WHEN event_type = 3002 THEN printf('{{"duration_sec": %d}}', (h >> 12) % 3600)
        ELSE '{{}}' END AS parameters,
    ['ios', 'android', 'web'][(h >> 4) % 3 + 1] AS platform,
    '1.4.0' AS app_version,
    ['US', 'DE', 'BR', 'JP', 'IN'][(h >> 6) % 5 + 1] AS country,
    'iPhone15,2' AS device_model,
    DATE '{day}' AS event_date,
    CAST(((h >> 20) % 86400000000) // 3600000000 AS BIGINT) AS event_hour,
    CAST(dayofweek(DATE '{day}') + 1 AS BIGINT) AS day_of_week,
    'phone' AS device_category, 'high' AS device_tier, 'NA' AS region,
    'game-events-raw' AS kafka_topic, CAST(h % 8 AS BIGINT) AS kafka_partition, CAST(i AS BIGINT) AS kafka_offset,
    TIMESTAMP '{day} 23:59:00' AS ingested_at
FROM typed
"""


def load_parquet(client, settings, table: str, sql: str, path: Path) -> float:
    """Write ``sql``'s rows (DuckDB) to the Parquet file ``path`` and append them to ``table`` in one load job;
    the seconds the load took (not the generation)."""
    import duckdb
    from google.cloud import bigquery

    duckdb.sql(f"COPY ({sql}) TO '{path}' (FORMAT PARQUET)")
    started = time.perf_counter()
    config = bigquery.LoadJobConfig(source_format="PARQUET", write_disposition="WRITE_APPEND")
    with open(path, "rb") as handle:
        client.load_table_from_file(handle, settings.table(table).strip("`"), job_config=config).result()
    path.unlink()
    return time.perf_counter() - started


def load_days(client, settings, days: list[date], n: int, workdir: Path) -> float:
    """Load ``n`` events for each of ``days`` in ONE load job (the emulator's appends slow down as a table grows)."""
    users = max(n // 20, 1)
    sql = " UNION ALL ".join(
        f"({EVENTS_SQL.format(n=n, users=users, day=d.isoformat(), seed=d.toordinal())})" for d in sorted(days)
    )
    return load_parquet(client, settings, "events", sql, workdir / f"events-{days[0]}-{len(days)}.parquet")


# The player state of one day, generated in DuckDB: players u0 .. u{players-1} first seen over the 30 days before,
# active on a few of them (the day's own events come from u0 .. u{n/20 - 1}, so they are returning players).
PLAYERS_SQL = """
SELECT
    printf('u%d', i) AS user_id,
    DATE '{day}' AS "date",
    DATE '{day}' - CAST(i % 30 AS INTEGER) AS first_seen_date,
    ['ios', 'android', 'web'][i % 3 + 1] AS first_platform,
    ['US', 'DE', 'BR', 'JP', 'IN'][i % 5 + 1] AS first_country,
    DATE '{day}' - CAST(i % 3 AS INTEGER) AS last_seen_date,
    CAST(1 << (i % 3) AS BIGINT) AS days_seen_bits,
    CAST(1 + i % 3 AS BIGINT) AS days_active,
    CAST(i % 7 + 1 AS BIGINT) AS sessions,
    CAST(i % 50 + 1 AS BIGINT) AS events,
    CAST(i % 20 AS BIGINT) AS levels_completed,
    CAST(i % 4 = 0 AS BIGINT) AS purchases,
    CASE WHEN i % 4 = 0 THEN 0.99 ELSE 0.0 END AS revenue_usd,
    CAST(i % 10000 AS BIGINT) AS best_score,
    CAST(i % 200 AS BIGINT) AS max_level_completed,
    CASE WHEN i % 4 = 0 THEN DATE '{day}' - CAST(i % 30 AS INTEGER) END AS first_purchase_date
FROM range({players}) t(i)
"""


def load_player_state(client, settings, days: list[date], players: int, workdir: Path) -> float:
    """``players`` rows of ``user_lifetime_stats`` for each of ``days``, in load jobs of at most 8M rows."""
    per_job = max(1, HISTORY_ROWS_PER_LOAD // players)
    return sum(
        load_parquet(
            client,
            settings,
            "user_lifetime_stats",
            " UNION ALL ".join(f"({PLAYERS_SQL.format(players=players, day=d)})" for d in days[i : i + per_job]),
            workdir / f"players-{days[i]}.parquet",
        )
        for i in range(0, len(days), per_job)
    )


def daily_steps(settings) -> list[tuple[str, str]]:
    """(step name, rendered SQL) of one daily run for DAY, in DAG order."""
    ds = DAY.isoformat()
    catalogue = load_catalogue(settings)
    built = [t for t in catalogue if t.built_by == DAILY_DAG]
    steps = [
        (t.name, render_sql("replace_partition.sql", settings, ds=ds, params={"table": t.name}))
        for t in built
        if t.query_sql and not t.export_sql
    ]
    for table in (t.name for t in catalogue if t.check_files):
        steps += [
            (f"check {c.name} ({table})", render_sql(c.template, settings, ds=ds))
            for c in discover_checks(table, settings)
        ]
    steps += [(f"export_{t.name}", render_sql(t.export_sql, settings, ds=ds)) for t in built if t.export_sql]
    return steps


def time_steps(client, settings, repeats: int) -> dict[str, float]:
    """Seconds per step: the median of ``repeats`` whole daily runs of DAY (the first inserts, the others replace,
    as a rerun does). One run on 2 shared cores varies by +-0.3 s on a 4 s total: too much for a 1.2 ratio."""
    runs: dict[str, list[float]] = {}
    for _ in range(repeats):
        for name, sql in daily_steps(settings):
            started = time.perf_counter()
            client.query(sql).result()
            runs.setdefault(name, []).append(time.perf_counter() - started)
    return {name: statistics.median(seconds) for name, seconds in runs.items()}


def report(title: str, timings: dict[str, float]) -> float:
    total = sum(timings.values())
    print(f"\n{title}: {total:.2f} s of SQL")
    for name, seconds in timings.items():
        print(f"  {seconds:7.2f} s  {name}")
    return total


def run(
    sizes: list[int], history_days: int, history_for: int, repeats: int, players: int, player_history: bool
) -> None:
    workdir = Path(tempfile.mkdtemp(prefix="bench-daily-sql-"))
    ports = StackPorts(bigquery=free_port(), bigquery_grpc=free_port(), kafka=free_port(), airflow=free_port())
    with LocalStack(workdir / "state", ports, with_airflow=False, say=lambda _m: None) as stack:
        os.environ.update(stack.env)
        base = load_settings(stack.env)
        summary = []
        for n in sizes:
            settings = dataclasses.replace(base, bq_dataset=f"bench_{n}")
            client = bigquery_client(settings)
            create_dataset_and_tables(client, settings)
            load_seconds = load_days(client, settings, [DAY], n, workdir)
            print(f"\nloaded {n:,} events for {DAY} in {load_seconds:.1f} s")
            seconds = load_player_state(client, settings, [DAY - timedelta(days=1)], players, workdir)
            print(
                f"loaded {players:,} players into user_lifetime_stats for {DAY - timedelta(days=1)} in {seconds:.1f} s"
            )
            one_day = report(f"{n:,}-event day, events holds 1 day", time_steps(client, settings, repeats))
            summary.append(f"{n:>11,} events, 1 day in table:  {one_day:6.2f} s")
            if history_days and n == history_for:
                history = sorted(DAY - timedelta(days=back) for back in range(1, history_days + 1))
                per_job = max(1, HISTORY_ROWS_PER_LOAD // n)  # the emulator caps one upload at 1 GiB
                seconds = sum(
                    load_days(client, settings, history[i : i + per_job], n, workdir)
                    for i in range(0, len(history), per_job)
                )
                print(f"loaded {n * history_days:,} events of history in {seconds:.1f} s")
                if player_history:
                    seconds = load_player_state(client, settings, history[:-1], players, workdir)
                    print(f"loaded {players * (history_days - 1):,} player-state rows of history in {seconds:.1f} s")
                with_history = report(
                    f"{n:,}-event day, events holds {history_days + 1} days", time_steps(client, settings, repeats)
                )
                summary.append(
                    f"{n:>11,} events, {history_days + 1} days in table: {with_history:6.2f} s"
                    f"  (ratio {with_history / one_day:.2f})"
                )
    print("\n== summary (seconds of SQL per daily run) ==\n" + "\n".join(summary))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    parser.add_argument("--history-days", type=int, default=30)
    parser.add_argument("--history-for", type=int, default=None, help="size that gets the history (default smallest)")
    parser.add_argument("--repeats", type=int, default=3, help="daily runs per measurement; the median is printed")
    parser.add_argument("--players", type=int, default=1_000_000, help="players in user_lifetime_stats for D-1")
    parser.add_argument(
        "--player-history", action="store_true", help="with history, as many players in each earlier partition too"
    )
    args = parser.parse_args(argv)
    print("command:", " ".join([Path(sys.executable).name, *sys.argv]))
    history_for = args.history_for or min(args.sizes)
    run(args.sizes, args.history_days, history_for, args.repeats, args.players, args.player_history)
    return 0


if __name__ == "__main__":
    sys.exit(main())
