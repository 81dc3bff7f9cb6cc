"""Offline: the demo's health lines summarise the alerts firing by rule (localstack/health_demo.py)."""

from __future__ import annotations

from game_analytics.localstack.health_demo import summarise_firing


def test_a_check_firing_on_many_days_is_one_entry_with_its_days():
    firing = [
        "check_warned[events.level_complete_volume@2026-11-30]",
        "check_warned[events.level_complete_volume@2026-11-29]",
        "check_warned[events_dlq.dlq_share_warn@2026-12-06]",
        "check_failed[user_daily_metrics.unique_users@2026-12-01]",
        "high_dlq_rate",
        "high_kafka_lag[3]",
        "high_kafka_lag[5]",
        "daily_metrics_late[2026-12-02]",
        "daily_metrics_late[2026-12-03]",
        "airflow_dag_failed[game_analytics_daily@2026-12-04]",
    ]
    assert summarise_firing(firing) == (
        "check_warned (events.level_complete_volume on 2 days, 2026-11-29 to 2026-11-30; "
        "events_dlq.dlq_share_warn@2026-12-06), "
        "check_failed (user_daily_metrics.unique_users@2026-12-01), "
        "high_dlq_rate, "
        "high_kafka_lag (3; 5), "
        "daily_metrics_late (on 2 days, 2026-12-02 to 2026-12-03), "
        "airflow_dag_failed (game_analytics_daily@2026-12-04)"
    )


def test_a_single_day_subject_keeps_its_form():
    assert summarise_firing(["daily_metrics_late[2026-12-02]"]) == "daily_metrics_late (2026-12-02)"


def test_nothing_firing():
    assert summarise_firing([]) == "nothing"
