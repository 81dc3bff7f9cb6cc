"""The "Game KPIs" page and its JSON on the real Airflow api-server: who gets in, and in headless Chromium every
number it shows equals the tables' (read here with the test's own SQL, not the page's).

Same set-up as the health page's tests (tests/ui/test_browser.py: its browser, screenshots and login; the session's
Airflow stack): the known rows of tests/ui/kpi_seed.py are planted, relative to the api-server's clock, in the
dataset it reads and removed afterwards. Screenshots: ``game-kpis-*.png`` next to the health page's (the path is
printed).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import httpx
import pytest

from game_analytics.kpi_ui import KPI_PAGE_PATH
from tests.sql.rows import Warehouse
from tests.ui import kpi_seed, test_browser
from tests.ui.conftest import planted
from tests.ui.test_browser import console_errors, log_in, open_from_nav, screenshots, wait_for

pytestmark = pytest.mark.airflow_e2e

browser = test_browser.browser
artifacts = test_browser.artifacts
PAGE, API = f"{KPI_PAGE_PATH}/", f"{KPI_PAGE_PATH}/api/kpis"


@pytest.fixture(scope="module")
def kpi_seeded(airflow_stack):
    yield from planted(kpi_seed)


def get(server: str, path: str, token: str | None = None, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(server + path, headers=headers, follow_redirects=False, timeout=60, **kwargs)


def test_who_gets_in(server, user_token, kpi_seeded):
    page = get(server, PAGE)  # an anonymous browser is sent to Airflow's login page and back
    assert page.status_code == 303 and page.headers["location"].startswith("/auth/login")
    assert "next=" in page.headers["location"]
    assert get(server, API).status_code == 401
    for path in (PAGE, API):
        assert get(server, path, token="not-a-jwt").status_code == 403
        assert get(server, path, cookies={"_token": "not-a-jwt"}).status_code == 403
    page = get(server, PAGE, token=user_token)  # a user's bearer token
    api = get(server, API, cookies={"_token": user_token})  # the UI's session cookie
    for response in (page, api):
        assert response.status_code == 200, response.text
        assert response.headers["cache-control"] == "no-store"
    body = api.json()
    expected = warehouse_numbers(kpi_seeded[0], datetime.fromisoformat(body["now"]))
    assert {row["date"]: row["dau"] for row in body["daily_summary"]} == {
        day: row["dau"] for day, row in expected["days"].items()
    }
    assert body["model"]["model_id"] == expected["model"]
    assert body["today_so_far"]["events"] == sum(expected["live"].values())

    plugins = get(server, "/api/v2/plugins", token=user_token).json()["plugins"]
    ours = next(p for p in plugins if p["name"] == "game_analytics")
    assert "game-kpis" in [v["url_route"] for v in ours["external_views"]]
    assert KPI_PAGE_PATH in [a["url_prefix"] for a in ours["fastapi_apps"]]


# -- the tables' numbers, read with the test's own SQL -----------------------------------------------------------


def warehouse_numbers(warehouse: Warehouse, now: datetime) -> dict:
    t = warehouse.table
    today = now.date()
    first, last = today - timedelta(days=30), today - timedelta(days=1)
    days = warehouse.run(f"SELECT * FROM {t('daily_summary')} WHERE `date` BETWEEN DATE '{first}' AND DATE '{last}'")
    retention = warehouse.run(
        f"SELECT * FROM {t('retention')} WHERE `date` BETWEEN DATE '{first}' AND DATE '{last}' AND platform = 'all'"
    )
    levels = warehouse.run(
        f"SELECT * FROM {t('level_metrics')} WHERE `date` BETWEEN DATE '{today - timedelta(days=7)}' AND DATE '{last}'"
    )
    models = warehouse.run(
        f"SELECT model_id, training_date FROM {t('model_runs')} WHERE promoted "
        f"AND training_date BETWEEN DATE '{today - timedelta(days=365)}' AND DATE '{today}' "
        "ORDER BY training_date DESC, trained_at DESC LIMIT 1"
    )
    predicted = {}
    if models:
        model = models[0]
        predicted = {
            r["level_id"]: r["predicted_pass_rate"]
            for r in warehouse.run(
                f"SELECT * FROM {t('level_predictions')} WHERE training_date = DATE '{model['training_date']}' "
                f"AND model_id = '{model['model_id']}'"
            )
        }
    current_window = now.replace(minute=now.minute - now.minute % 5, second=0, microsecond=0)
    live_rows = warehouse.run(
        f"SELECT * FROM {t('live_event_counts')} WHERE event_date = DATE '{today}' "
        f"AND window_start <= TIMESTAMP '{current_window:%Y-%m-%d %H:%M:%S}+00'"
    )
    by_level: dict[int, dict] = {}
    for row in levels:
        level = by_level.setdefault(row["level_id"], {"attempts": 0, "completions": 0, "failures": 0})
        for key in level:
            level[key] += row[key]
    live: dict[str, int] = {}
    for row in live_rows:
        key = row["window_start"].isoformat()
        live[key] = live.get(key, 0) + row["events"]
    return {
        "days": {r["date"].isoformat(): r for r in days},
        "cohorts": {(r["cohort_date"].isoformat(), r["day_n"]): r for r in retention},
        "levels": {
            level: {
                "attempts": v["attempts"],
                "pass_rate": v["completions"] / (v["completions"] + v["failures"]),
                "predicted": predicted.get(level),
            }
            for level, v in by_level.items()
        },
        "model": models[0]["model_id"] if models else None,
        "live": live,
        "revenue_today": sum(r["revenue_usd"] for r in live_rows),
    }


# Everything the page shows as data attributes, collected in the browser in one call (one WebDriver round trip per
# element would cost seconds for the ~500 marks and cells).
PAGE_NUMBERS_JS = """
const v = e => (e && e.dataset.value) ? JSON.parse(e.dataset.value) : null;
const all = (css, root = document) => Array.from(root.querySelectorAll(css));
const cells = tr => all('td[data-col]', tr).map(td => [td.dataset.col, v(td)]);
const model = document.querySelector('code[data-model]');
return {
  now: document.body.dataset.now,
  tiles: all('[data-kpi]').map(e => [e.dataset.kpi, v(e)]),
  days: all('tr[data-day]').map(tr => [tr.dataset.day, cells(tr)]),
  cohorts: all('tr[data-cohort]').flatMap(tr => all('td[data-retained]', tr).map(td => [
    tr.dataset.cohort, Number(td.dataset.dayN), v(td), Number(td.dataset.retained),
    v(tr.querySelector('td[data-col=size]'))])),
  levels: all('tr[data-level]').map(tr => [Number(tr.dataset.level), cells(tr)]),
  model: model ? model.dataset.model : null,
  charts: all('[data-chart]').map(e => [e.dataset.chart, e.dataset.series, e.dataset.x, v(e)]),
  live_totals: all('[data-live-total]').map(e => [e.dataset.liveTotal, v(e)]),
};
"""


def page_numbers(driver) -> dict:
    raw = driver.execute_script(PAGE_NUMBERS_JS)
    return {
        "now": datetime.fromisoformat(raw["now"]),
        "tiles": dict(raw["tiles"]),
        "days": {day: dict(cells) for day, cells in raw["days"]},
        "cohorts": {(cohort, day_n): (rate, retained, size) for cohort, day_n, rate, retained, size in raw["cohorts"]},
        "levels": {level: dict(cells) for level, cells in raw["levels"]},
        "model": raw["model"],
        "charts": {(chart, series, x): value for chart, series, x, value in raw["charts"]},
        "live_totals": dict(raw["live_totals"]),
    }


def assert_page_equals_tables(page: dict, expected: dict) -> None:
    approx = pytest.approx
    assert page["days"].keys() == expected["days"].keys()
    for day, cells in page["days"].items():
        assert cells == approx({column: expected["days"][day][column] for column in cells}), day
        # a bar of 0 is not drawn
        assert page["charts"].get(("players", "new", day), 0) == expected["days"][day]["new_players"]
        assert page["charts"].get(("revenue", "revenue", day), 0) == approx(expected["days"][day]["revenue_usd"])
    newest = max(expected["days"])
    assert page["tiles"]["dau"] == expected["days"][newest]["dau"]
    assert page["tiles"]["revenue_usd"] == approx(expected["days"][newest]["revenue_usd"])
    assert page["tiles"]["stickiness"] == approx(expected["days"][newest]["stickiness"])
    assert page["cohorts"].keys() == expected["cohorts"].keys()
    for key, row in expected["cohorts"].items():
        assert page["cohorts"][key] == approx((row["retention_rate"], row["retained_users"], row["cohort_size"])), key
    for (cohort, day_n), row in expected["cohorts"].items():
        assert page["charts"][("retention", f"D{day_n}", cohort)] == approx(row["retention_rate"])
    assert page["levels"].keys() == expected["levels"].keys()
    for level, cells in expected["levels"].items():
        assert page["levels"][level] == approx(cells), level
    assert page["model"] == expected["model"]
    live = {x: v for (chart, _, x), v in page["charts"].items() if chart == "live"}
    assert live == expected["live"]
    assert page["live_totals"]["events"] == sum(expected["live"].values())
    assert page["live_totals"]["revenue_usd"] == approx(expected["revenue_today"])


@pytest.mark.skipif(test_browser.MISSING and not test_browser.REQUIRED, reason=test_browser.NO_BROWSER)
def test_the_page_in_a_browser_shows_the_tables(browser, artifacts, server, kpi_seeded):
    warehouse, seed = kpi_seeded
    log_in(browser, server, PAGE, "[data-kpi]")
    console_errors(browser)  # the login page's are Airflow's business

    # Inside Airflow's UI: its own navigation entry opens the page in the UI's frame.
    open_from_nav(browser, server, "game-kpis", PAGE, "[data-kpi]", artifacts / "game-kpis-in-airflow-ui-1366x768.png")

    browser.get(f"{server}{PAGE}")
    wait_for(browser, "[data-kpi]")
    screenshots(browser, artifacts, "game-kpis")
    page = page_numbers(browser)
    assert console_errors(browser) == []
    assert_page_equals_tables(page, warehouse_numbers(warehouse, page["now"]))
    # The seed is there (the comparison above holds for any rows): its days, cohorts and levels are shown.
    assert seed.back(1).isoformat() in page["days"] and len(page["levels"]) >= len(kpi_seed.LEVELS)
    assert page["live_totals"]["events"] > 0
