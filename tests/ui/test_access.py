"""The health page, its API, its runbooks and /metrics on the real Airflow api-server: who gets in.

Airflow does not protect a plugin's endpoints, so these tests are what shows the app does: anonymous requests are
refused (a browser is sent to the login page), a bad token is refused, an Airflow user's JWT works, and /metrics
also takes the scrape token of GA_METRICS_TOKEN, and no other.
"""

from __future__ import annotations

import os

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.ui import seed as seeding

pytestmark = pytest.mark.airflow_e2e

PAGES = ["/pipeline-health/", "/pipeline-health/runbooks"]
APIS = ["/pipeline-health/api/summary", "/pipeline-health/metrics"]


def get(server: str, path: str, token: str | None = None, **kwargs) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.get(server + path, headers=headers, follow_redirects=False, timeout=60, **kwargs)


@pytest.mark.parametrize("path", PAGES)
def test_an_anonymous_browser_is_sent_to_the_login_page(server, path):
    response = get(server, path)
    assert response.status_code == 303, response.text
    assert response.headers["location"].startswith("/auth/login")
    assert "next=" in response.headers["location"]


@pytest.mark.parametrize("path", APIS)
def test_an_anonymous_request_is_refused(server, path):
    assert get(server, path).status_code == 401


@pytest.mark.parametrize("path", PAGES + APIS)
def test_a_bad_token_or_cookie_is_refused(server, path):
    assert get(server, path, token="not-a-jwt").status_code == 403
    assert get(server, path, cookies={"_token": "not-a-jwt"}).status_code == 403


@pytest.mark.parametrize("path", PAGES + APIS)
def test_an_airflow_user_gets_in(server, user_token, seeded, path):
    response = get(server, path, token=user_token)
    assert response.status_code == 200, response.text
    if not path.endswith("runbooks"):  # live numbers: never from a cache
        assert response.headers["cache-control"] == "no-store"


def test_the_ui_session_cookie_is_enough(server, user_token, seeded):
    response = get(server, "/pipeline-health/api/summary", cookies={"_token": user_token})
    assert response.status_code == 200 and response.json()["tiles"]


def test_the_summary_has_the_seeded_numbers(server, user_token, seeded):
    _, seed = seeded
    body = get(server, "/pipeline-health/api/summary", token=user_token).json()
    tiles = {tile["metric"]: tile for tile in body["tiles"]}
    assert tiles["kafka_lag_messages"]["value"] == max(seeding.LAGS.values())
    assert tiles["kafka_lag_messages"]["status"] == "red" and tiles["freshness_seconds"]["status"] == "amber"
    assert tiles["dlq_rate"]["status"] == "green" and tiles["events_per_second"]["value"] == 812.5
    assert body["measured_at"] == seed.measured_at.isoformat()
    firing = {(a["rule"], a["subject"]) for a in body["alerts_firing"]}
    assert ("high_kafka_lag", "3") in firing and ("data_freshness", "") not in firing


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def test_metrics_takes_the_scrape_token_and_no_other(server, seeded):
    response = get(server, "/pipeline-health/metrics", token=os.environ["GA_METRICS_TOKEN"])
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    assert samples[("game_analytics_kafka_lag_messages", (("partition", "3"),))] == 123_456
    assert samples[("game_analytics_dlq_rate", ())] == 0.0042
    assert samples[("game_analytics_dead_lettered_24h", (("reason", "invalid_json"),))] == 12
    firing = ("game_analytics_alert_firing", (("rule", "high_kafka_lag"), ("severity", "critical"), ("subject", "3")))
    assert samples[firing] == 1
    assert not any(
        name == "game_analytics_alert_firing" and ("rule", "data_freshness") in labels for name, labels in samples
    )

    wrong = os.environ["GA_METRICS_TOKEN"] + "x"
    assert get(server, "/pipeline-health/metrics", token=wrong).status_code in (401, 403)
    # the scrape token is for /metrics only
    assert get(server, "/pipeline-health/api/summary", token=os.environ["GA_METRICS_TOKEN"]).status_code == 403


def test_the_plugin_adds_the_page_to_the_navigation(server, user_token):
    plugins = get(server, "/api/v2/plugins", token=user_token).json()["plugins"]
    ours = next(p for p in plugins if p["name"] == "game_analytics")
    assert [v["url_route"] for v in ours["external_views"]] == ["pipeline-health", "game-kpis"]
    assert [a["url_prefix"] for a in ours["fastapi_apps"]] == ["/pipeline-health", "/game-kpis"]
