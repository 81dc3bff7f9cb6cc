"""The "Pipeline health" page, rendered on the server: one HTML document with inline CSS, no script, no network.

Laid out for a 1366x768 laptop screen (inside Airflow's UI, which frames it next to its navigation): the four
tiles and the 24 h chart with the firing alerts fit the first screen; the last 7 days of daily runs and their
checks follow. Cells carry ``data-*`` attributes with raw values so a browser test can compare them with the
warehouse. No Airflow import.
"""

from __future__ import annotations

import json
from datetime import date, datetime
from html import escape

from game_analytics.health.rules import RUNBOOKS_PATH, Rule
from game_analytics.health.snapshot import HealthSnapshot
from game_analytics.health_ui.svg import volume_chart
from game_analytics.health_ui.tiles import STATUS_WORDS, Tile, build_tiles, format_count, format_duration

STYLE = """
*{box-sizing:border-box}
body{margin:0;padding:14px 20px 28px;font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;
 color:#1f2328;background:#f6f8fa}
h1{font-size:20px;margin:0}h2{font-size:15px;margin:0 0 8px}
header{display:flex;align-items:baseline;gap:16px;flex-wrap:wrap;margin-bottom:12px}
header .meta{color:#59636e;font-size:13px}header nav{margin-left:auto;font-size:13px}
a{color:#0969da}
.tiles{display:grid;grid-template-columns:repeat(4,minmax(0,1fr));gap:12px;margin-bottom:12px}
.tile{background:#fff;border:1px solid #d0d7de;border-left:6px solid #8c959f;border-radius:6px;padding:10px 12px}
.tile.green{border-left-color:#1a7f37}.tile.amber{border-left-color:#bf8700}.tile.red{border-left-color:#cf222e}
.tile .title{font-size:13px;color:#59636e;display:flex;justify-content:space-between}
.tile .value{font-size:28px;font-weight:600;margin:2px 0}
.tile .note,.tile .rule{font-size:12px;color:#59636e}
.tile dl{display:grid;grid-template-columns:repeat(2,auto 1fr);gap:0 8px;margin:6px 0 0;font-size:12px}
.tile dt{color:#59636e}.tile dd{margin:0;font-variant-numeric:tabular-nums}
.chip{display:inline-block;padding:0 8px;border-radius:10px;font-size:12px;font-weight:600;white-space:nowrap}
.chip.green,.chip.pass,.chip.success{background:#dafbe1;color:#116329}
.chip.amber,.chip.warn,.chip.warning,.chip.high{background:#fff8c5;color:#7d4e00}
.chip.red,.chip.fail,.chip.failed,.chip.critical{background:#ffebe9;color:#a40e26}
.chip.unknown,.chip.none,.chip.waiting{background:#eaeef2;color:#59636e}
.row{display:grid;grid-template-columns:minmax(0,5fr) minmax(0,3fr);gap:12px;margin-bottom:12px}
.card{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:10px 12px}
.axis{font-size:11px;fill:#59636e}.legend{font-size:12px;fill:#1f2328}.empty{font-size:14px;fill:#59636e}
table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eaeef2;vertical-align:top}
th{color:#59636e;font-weight:600}td.num{text-align:right;font-variant-numeric:tabular-nums}
.alerts li{margin:0 0 8px;list-style:none}.alerts ul{padding:0;margin:0}
.alerts .msg{font-size:12px;color:#59636e}.when{white-space:nowrap}.none-firing{color:#116329}
code{font-size:12px;background:#f6f8fa;padding:0 3px;border-radius:3px;word-break:break-all}
"""


def _e(value: object) -> str:
    return escape("" if value is None else str(value))


def _data(value: object) -> str:
    return _e(json.dumps(value) if value is not None else "")


def _utc(moment: datetime | None) -> str:
    return "never" if moment is None else f"{moment:%Y-%m-%d %H:%M:%S} UTC"


def _tile(tile: Tile) -> str:
    details = "".join(
        f'<dt>{_e(label)}</dt><dd data-detail="{_e(label)}">{_e(value)}</dd>' for label, value in tile.details
    )
    return (
        f'<section class="tile {tile.status}" data-tile="{tile.key}" data-status="{tile.status}" '
        f'data-value="{_data(tile.value)}">'
        f'<div class="title"><span>{_e(tile.title)}</span>'
        f'<span class="chip {tile.status}">{STATUS_WORDS[tile.status]}</span></div>'
        f'<div class="value">{_e(tile.text)}</div><div class="note">{_e(tile.note)}</div>'
        f'<div class="rule">{_e(tile.threshold_text)}</div>' + (f"<dl>{details}</dl>" if details else "") + "</section>"
    )


def _alerts(snapshot: HealthSnapshot, runbooks_url: str) -> str:
    if not snapshot.alerts:
        return '<p class="none-firing" data-alerts="0">No alert is firing.</p>'
    items = []
    for alert in snapshot.alerts:
        subject = f" · {_e(alert.subject)}" if alert.subject else ""
        items.append(
            f'<li data-alert="{_e(alert.rule)}" data-subject="{_e(alert.subject)}">'
            f'<span class="chip {_e(alert.severity)}">{_e(alert.severity)}</span> '
            f'<a href="{runbooks_url}#{_e(alert.rule)}">{_e(alert.rule)}</a>{subject}'
            f'<div class="msg">{_e(alert.message)} · '
            f'<span class="when">since {_e(_utc(alert.fired_at))}</span></div></li>'
        )
    return f'<ul data-alerts="{len(items)}">{"".join(items)}</ul>'


def _expired(snapshot: HealthSnapshot, runbooks_url: str) -> str:
    """The failures older than the alert horizon that nobody fixed: no longer notified, never called resolved."""
    if not snapshot.expired:
        return ""
    items = "".join(
        f'<li data-expired="{_e(a.rule)}" data-subject="{_e(a.subject)}">'
        f'<a href="{runbooks_url}#{_e(a.rule)}">{_e(a.rule)}</a> · {_e(a.subject)}'
        f'<div class="msg">fired {_e(_utc(a.fired_at))}; {_e(a.message)}</div></li>'
        for a in snapshot.expired
    )
    return (
        '<section class="card alerts" style="margin-bottom:12px"><h2>Older than the alert horizon, not fixed '
        "(expired in the last GA_ALERT_HORIZON_DAYS days; no longer notified)</h2>"
        f'<ul data-expired-count="{len(snapshot.expired)}">{items}</ul></section>'
    )


def _runs(snapshot: HealthSnapshot) -> str:
    days = list(reversed(snapshot.run_days))  # oldest to newest, left to right, like the chart
    results = {(c.name, c.day): c for c in snapshot.checks}
    check_names = sorted({c.name for c in snapshot.checks})
    head = "".join(f'<th data-day="{d}">{d:%a %d %b}</th>' for d in days)
    run_cells = []
    for day in days:
        run = snapshot.runs.get(day)
        state = run.state if run else "none"
        title = f"{run.run_id}; failed tasks: {run.failed_tasks or '-'}" if run else "no finished run"
        run_cells.append(
            f'<td data-run-day="{day}" data-state="{_e(state)}" title="{_e(title)}">'
            f'<span class="chip {_e(state)}">{_e(state if run else "no run")}</span></td>'
        )
    rows = [f"<tr><th>run of game_analytics_daily</th>{''.join(run_cells)}</tr>"]
    for name in check_names:
        cells = []
        for day in days:
            result = results.get((name, day))
            status = result.status if result else "none"
            cells.append(
                f'<td data-check="{_e(name)}" data-day="{day}" data-status="{_e(status)}">'
                f'<span class="chip {_e(status)}">{_e(status if result else "–")}</span></td>'
            )
        rows.append(f"<tr><th>{_e(name)}</th>{''.join(cells)}</tr>")
    return f'<table class="runs"><thead><tr><th></th>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


def _problems(snapshot: HealthSnapshot) -> str:
    problems = [c for c in snapshot.checks if c.status in ("warn", "fail")]
    if not problems:
        return "<p>Every check passed on these days.</p>"
    rows = "".join(
        f'<tr data-problem="{_e(c.name)}@{c.day}"><td>{c.day}</td><td>{_e(c.name)}</td>'
        f'<td><span class="chip {_e(c.status)}">{_e(c.status)}</span></td>'
        f'<td class="num" data-offending-rows="{c.offending_rows}">{format_count(c.offending_rows)}</td>'
        f"<td>{_e(c.message)}</td><td>{_offending(c.offending_values)}</td></tr>"
        for c in problems
    )
    return (
        '<table class="problems"><thead><tr><th>day</th><th>check</th><th>status</th><th>rows</th>'
        f"<th>message</th><th>offending values (first rows)</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def _offending(values: list) -> str:
    return "<br>".join(f"<code>{_e(json.dumps(v, sort_keys=True, default=str))}</code>" for v in values)


def render_page(snapshot: HealthSnapshot, rules: dict[str, Rule], base_path: str) -> str:
    """The whole page; ``base_path`` is where the plugin is mounted (``/pipeline-health``) for its own links."""
    runbooks_url = f"{base_path}/runbooks"
    chart = volume_chart(snapshot.volume_hours, snapshot.volume)
    tiles = "".join(_tile(tile) for tile in build_tiles(snapshot, rules))
    age = (
        f" ({format_duration((snapshot.now - snapshot.measured_at).total_seconds())} ago)"
        if snapshot.measured_at
        else " – the pipeline_health DAG has not measured anything in the last 2 days"
    )
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pipeline health</title><style>{STYLE}</style></head>
<body data-now="{_e(snapshot.now.isoformat())}">
<header><h1>Pipeline health</h1>
<span class="meta" data-measured-at="{_e(snapshot.measured_at.isoformat() if snapshot.measured_at else "")}">
measured {_e(_utc(snapshot.measured_at))}{_e(age)} · page at {_e(_utc(snapshot.now))}</span>
<nav><a href="{runbooks_url}">Runbooks</a> · <a href="{base_path}/api/summary">JSON</a> ·
<a href="{base_path}/metrics">/metrics</a></nav></header>
<div class="tiles">{tiles}</div>
<div class="row">
<section class="card"><h2>Events per hour, last 24 h</h2>{chart}</section>
<section class="card alerts"><h2>Alerts firing now</h2>{_alerts(snapshot, runbooks_url)}</section>
</div>
{_expired(snapshot, runbooks_url)}
<section class="card" style="margin-bottom:12px"><h2>Daily runs and checks, last 7 days (day D)</h2>
{_runs(snapshot)}</section>
<section class="card"><h2>Warnings and failures</h2>{_problems(snapshot)}</section>
</body></html>"""


def summary(snapshot: HealthSnapshot, rules: dict[str, Rule]) -> dict:
    """The page's numbers as JSON (the ``/api/summary`` endpoint)."""

    def iso(value: date | datetime | None) -> str | None:
        return value.isoformat() if value else None

    return {
        "now": iso(snapshot.now),
        "measured_at": iso(snapshot.measured_at),
        "tiles": [tile.to_dict() for tile in build_tiles(snapshot, rules)],
        "measurements": snapshot.measurements,
        "event_volume": [
            {"hour": iso(v.hour), "event_group": v.event_group, "events": v.events} for v in snapshot.volume
        ],
        "daily_runs": [
            {
                "day": iso(day),
                "state": run.state if (run := snapshot.runs.get(day)) else None,
                "run_id": run.run_id if run else None,
                "failed_tasks": run.failed_tasks if run else None,
                "finished_at": iso(run.finished_at) if run else None,
            }
            for day in snapshot.run_days
        ],
        "checks": [
            {
                "day": iso(c.day),
                "check": c.name,
                "severity": c.severity,
                "status": c.status,
                "message": c.message,
                "offending_rows": c.offending_rows,
                "offending_values": c.offending_values,
            }
            for c in snapshot.checks
        ],
        "alerts_firing": [
            {
                "rule": a.rule,
                "subject": a.subject,
                "severity": a.severity,
                "value": a.value,
                "threshold": a.threshold,
                "message": a.message,
                "fired_at": iso(a.fired_at),
                "runbook": f"{RUNBOOKS_PATH}#{a.rule}",
            }
            for a in snapshot.alerts
        ],
        "alerts_expired": [
            {"rule": a.rule, "subject": a.subject, "message": a.message, "fired_at": iso(a.fired_at)}
            for a in snapshot.expired
        ],
    }
