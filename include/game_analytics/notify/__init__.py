"""Delivery of the pipeline's notifications: channels.py (payloads, the webhook POST; no Airflow) and notifier.py
(the Airflow Notifier that sends a payload through the configured channels: webhook, Slack, e-mail)."""
