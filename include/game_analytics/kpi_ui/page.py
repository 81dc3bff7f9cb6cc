"""The "Game KPIs" page, rendered on the server: one HTML document with inline CSS and SVG, no script, no network.

Laid out for a 1366x768 laptop screen inside Airflow's UI: the headline tiles and the 30-day players and revenue
charts fit the first screen; retention, stickiness, the level-difficulty curve and today's live counts follow, then
the tables with every number. Cells, tiles and chart marks carry ``data-*`` attributes with the raw values so a
browser test can compare them with the tables. An empty warehouse gives the same page with "no data yet" in each
part. The style is the health page's, so the two pages look like one product. No Airflow import.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from html import escape

from game_analytics.health_ui.page import STYLE as HEALTH_STYLE
from game_analytics.health_ui.svg import PALETTE
from game_analytics.health_ui.tiles import format_count, format_share
from game_analytics.kpi_ui.charts import Chart, Series
from game_analytics.kpi_ui.snapshot import (
    LEVEL_DAYS,
    RETENTION_DAYS,
    SUMMARY_DAYS,
    WINDOW,
    KpiSnapshot,
    LevelDifficulty,
)
from game_analytics.ml.registry import CURRENT_MODEL_HORIZON_DAYS

STYLE = (
    HEALTH_STYLE
    + """
.tiles{grid-template-columns:repeat(6,minmax(0,1fr))}.row{grid-template-columns:repeat(2,minmax(0,1fr))}
.tile .value{font-size:24px}.card{margin-bottom:12px}.card p{margin:0 0 6px;color:#59636e;font-size:13px}
.notice{background:#fff8c5;border:1px solid #d4a72c;border-radius:6px;padding:10px 12px;margin-bottom:12px}
.totals{display:flex;gap:24px;font-size:13px;margin-bottom:4px}.totals b{font-size:18px}
.tables{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:12px;align-items:start}
.tables .wide{grid-column:1/-1}.tables td,.tables th{white-space:nowrap;padding:3px 8px}
"""
)
WINDOWS_PER_HOUR = int(timedelta(hours=1) / WINDOW)
DAY_COLUMNS = (  # (column, heading, format) of the daily table
    ("dau", "DAU", "count"),
    ("new_players", "new", "count"),
    ("returning_players", "returning", "count"),
    ("wau", "WAU", "count"),
    ("mau", "MAU", "count"),
    ("stickiness", "DAU/MAU", "rate"),
    ("revenue_usd", "revenue", "usd"),
    ("paying_players", "payers", "count"),
    ("arpdau", "ARPDAU", "usd"),
)


def format_usd(value: float | None) -> str:
    return "–" if value is None else f"${value:,.2f}"


FORMATS = {"count": format_count, "rate": format_share, "usd": format_usd}


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _cell(value: float | None, kind: str, **data: object) -> str:
    attributes = "".join(f' data-{k.replace("_", "-")}="{_e(v)}"' for k, v in data.items())
    raw = _e(json.dumps(value)) if value is not None else ""
    return f'<td class="num"{attributes} data-value="{raw}">{_e(FORMATS[kind](value))}</td>'


def _tile(key: str, title: str, value: float | None, kind: str, note: str) -> str:
    raw = _e(json.dumps(value)) if value is not None else ""
    return (
        f'<section class="tile" data-kpi="{key}" data-value="{raw}"><div class="title"><span>{_e(title)}</span></div>'
        f'<div class="value">{_e(FORMATS[kind](value))}</div><div class="note">{_e(note)}</div></section>'
    )


def _day(day: date) -> str:
    return f"{day:%a %d %b}"


def _tiles(snapshot: KpiSnapshot) -> str:
    latest = snapshot.latest
    on = f"on {_day(latest.date)}" if latest else "no day built yet"
    tiles = [
        _tile("dau", "DAU", latest.dau if latest else None, "count", on),
        _tile("new_players", "New players", latest.new_players if latest else None, "count", on),
        _tile("revenue_usd", "Revenue", latest.revenue_usd if latest else None, "usd", on),
        _tile("stickiness", "Stickiness (DAU/MAU)", latest.stickiness if latest else None, "rate", on),
    ]
    for day_n in RETENTION_DAYS[:2]:
        row = snapshot.newest_retention(day_n)
        note = f"cohort of {_day(row.cohort_date)}, {format_count(row.cohort_size)} players" if row else "no cohort yet"
        tiles.append(_tile(f"d{day_n}", f"D{day_n} retention", row.retention_rate if row else None, "rate", note))
    return f'<div class="tiles">{"".join(tiles)}</div>'


def _daily_charts(snapshot: KpiSnapshot) -> tuple[str, str]:
    by_day = {row.date: row for row in snapshot.summary}
    xs = [d.isoformat() for d in snapshot.days]
    labels = [f"{d:%d %b}" for d in snapshot.days]

    def values(column: str) -> list[float | None]:
        return [getattr(by_day[d], column) if d in by_day else None for d in snapshot.days]

    empty = "no daily summary yet"
    players = Chart("players", "Players per day", "players", xs, labels, format_count, empty=empty).bars(
        [Series("returning", values("returning_players"), PALETTE[0]), Series("new", values("new_players"), PALETTE[1])]
    )
    revenue = Chart("revenue", "Revenue per day", "revenue (USD)", xs, labels, format_usd, empty=empty).bars(
        [Series("revenue", values("revenue_usd"), PALETTE[2])]
    )
    stickiness = Chart("stickiness", "DAU / MAU per day", "DAU / MAU", xs, labels, format_share, True, empty=empty)
    return (
        f'<div class="row"><section class="card"><h2>Players per day (DAU: new + returning), last {SUMMARY_DAYS} days'
        f'</h2>{players}</section><section class="card"><h2>Revenue per day, last {SUMMARY_DAYS} days</h2>{revenue}'
        f"</section></div>",
        f'<section class="card"><h2>Stickiness (DAU / MAU), last {SUMMARY_DAYS} days</h2>'
        f"{stickiness.lines([Series('DAU / MAU', values('stickiness'), PALETTE[3])])}</section>",
    )


def _retention_chart(snapshot: KpiSnapshot) -> str:
    cohorts = snapshot.cohorts()
    xs = [d.isoformat() for d in snapshot.cohort_days]
    labels = [f"{d:%d %b}" for d in snapshot.cohort_days]
    series = [
        Series(
            f"D{n}",
            [cohorts[d][n].retention_rate if n in cohorts.get(d, {}) else None for d in snapshot.cohort_days],
            PALETTE[i],
        )
        for i, n in enumerate(RETENTION_DAYS)
    ]
    chart = Chart(
        "retention", "Retention by install cohort", "retained", xs, labels, format_share, True, empty="no cohort yet"
    )
    return (
        '<section class="card"><h2>Retention by install cohort (D1, D7, D30), all platforms</h2>'
        f"{chart.lines(series)}</section>"
    )


def _levels(snapshot: KpiSnapshot) -> str:
    xs = [str(level.level_id) for level in snapshot.levels]
    model = snapshot.model
    note = (
        f'Predicted: the current model <code data-model="{_e(model.model_id)}">{_e(model.model_id)}</code>, trained '
        f"for {model.training_date} (held-out MAE {'–' if model.mae is None else f'{model.mae:.3f}'})."
        if model
        else f"Predicted: no model promoted in the {CURRENT_MODEL_HORIZON_DAYS} days up to today."
    )
    width = 1300
    rates = Chart("pass_rate", "Pass rate by level", "pass rate", xs, xs, format_share, True, width, 220, "no levels")
    attempts = Chart("attempts", "Attempts by level", "attempts", xs, xs, format_count, False, width, 170, "no levels")
    return (
        f'<section class="card"><h2>Level difficulty, last {LEVEL_DAYS} days</h2><p>{note}</p>'
        + rates.lines(
            [
                Series("pass rate", [level.pass_rate for level in snapshot.levels], PALETTE[0]),
                Series("predicted", [level.predicted_pass_rate for level in snapshot.levels], PALETTE[1], True),
            ]
        )
        + attempts.bars([Series("attempts", [level.attempts for level in snapshot.levels], PALETTE[4])])
        + "</section>"
    )


def _live(snapshot: KpiSnapshot) -> str:
    windows = snapshot.live_windows
    by_window = {w.window_start: w for w in snapshot.live}
    xs = [w.isoformat() for w in windows]
    chart = Chart(
        "live",
        "Events per 5 minutes today",
        "events / 5 min",
        xs,
        [f"{w:%H:%M}" for w in windows],
        format_count,
        width=1300,
        height=200,
        empty="no events counted today yet",
        label_step=WINDOWS_PER_HOUR,
    )
    totals = snapshot.live_totals
    items = "".join(
        f'<span data-live-total="{key}" data-value="{_e(json.dumps(totals[key]))}">{label} '
        f"<b>{_e(FORMATS[kind](totals[key]))}</b></span>"
        for key, label, kind in (
            ("events", "events", "count"),
            ("purchases", "purchases", "count"),
            ("revenue_usd", "revenue", "usd"),
        )
    )
    bars = chart.bars([Series("events", [by_window[w].events if w in by_window else None for w in windows])])
    return (
        f'<section class="card"><h2>Today so far ({snapshot.today:%a %d %b}, UTC, from the live counts)</h2>'
        f'<div class="totals">{items}</div>{bars}</section>'
    )


def _level_row(level: LevelDifficulty) -> str:
    cells = (
        _cell(level.attempts, "count", col="attempts")
        + _cell(level.pass_rate, "rate", col="pass_rate")
        + _cell(level.predicted_pass_rate, "rate", col="predicted")
    )
    return f'<tr data-level="{level.level_id}"><td>{level.level_id}</td>{cells}</tr>'


def _tables(snapshot: KpiSnapshot) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for _, h, _ in DAY_COLUMNS)
    days = (
        "".join(
            f'<tr data-day="{row.date}"><td>{_day(row.date)}</td>'
            + "".join(_cell(getattr(row, c), kind, col=c) for c, _, kind in DAY_COLUMNS)
            + "</tr>"
            for row in reversed(snapshot.summary)
        )
        or f'<tr><td colspan="{len(DAY_COLUMNS) + 1}">no daily summary yet</td></tr>'
    )
    cohort_rows = []
    for cohort, by_n in snapshot.cohorts().items():
        size = next(iter(by_n.values())).cohort_size
        cells = "".join(
            _cell(by_n[n].retention_rate, "rate", day_n=n, retained=by_n[n].retained_users)
            if n in by_n
            else f'<td class="num" data-day-n="{n}">–</td>'
            for n in RETENTION_DAYS
        )
        cohort_rows.append(
            f'<tr data-cohort="{cohort}"><td>{_day(cohort)}</td>{_cell(size, "count", col="size")}{cells}</tr>'
        )
    cohorts = "".join(cohort_rows) or '<tr><td colspan="5">no cohort yet</td></tr>'
    levels = "".join(_level_row(level) for level in snapshot.levels) or (
        '<tr><td colspan="4">no level played in these days</td></tr>'
    )
    return (
        '<div class="tables">'
        f'<section class="card wide"><h2>Daily summary</h2><table class="days"><thead><tr><th>day</th>{head}</tr>'
        f"</thead><tbody>{days}</tbody></table></section>"
        '<section class="card"><h2>Cohorts (all platforms)</h2><table class="cohorts"><thead><tr><th>cohort</th>'
        f"<th>players</th>{''.join(f'<th>D{n}</th>' for n in RETENTION_DAYS)}</tr></thead><tbody>{cohorts}</tbody>"
        "</table></section>"
        '<section class="card"><h2>Levels</h2><table class="levels"><thead><tr><th>level</th><th>attempts</th>'
        f"<th>pass rate</th><th>predicted</th></tr></thead><tbody>{levels}</tbody></table></section></div>"
    )


def _notice(snapshot: KpiSnapshot) -> str:
    missing = (
        f" Tables not in the warehouse yet: {', '.join(snapshot.missing_tables)} (the set-up step creates them)."
        if snapshot.missing_tables
        else ""
    )
    if snapshot.is_empty:
        return (
            '<div class="notice" data-no-data="true"><b>No data yet.</b> The daily DAG has not built a daily '
            f"summary, a retention cohort or level metrics for the last {SUMMARY_DAYS} days, and no ingestion batch "
            f"has counted events today. `make run` loads a few days of events.{_e(missing)}</div>"
        )
    return f'<div class="notice">{_e(missing)}</div>' if missing else ""


def render_page(snapshot: KpiSnapshot, base_path: str, health_path: str) -> str:
    """The whole page; ``base_path`` is where the plugin mounts it (``/game-kpis``), for its own links."""
    daily, stickiness = _daily_charts(snapshot)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Game KPIs</title><style>{STYLE}</style></head>
<body data-now="{_e(snapshot.now.isoformat())}">
<header><h1>Game KPIs</h1>
<span class="meta">as of {snapshot.now:%Y-%m-%d %H:%M:%S} UTC · days {snapshot.days[0]} to {snapshot.days[-1]}</span>
<nav><a href="{_e(base_path)}/api/kpis">JSON</a> · <a href="{_e(health_path)}/">Pipeline health</a></nav></header>
{_notice(snapshot)}{_tiles(snapshot)}{daily}
<div class="row">{_retention_chart(snapshot)}{stickiness}</div>
{_levels(snapshot)}{_live(snapshot)}{_tables(snapshot)}
</body></html>"""
