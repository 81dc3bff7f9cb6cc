-- Live counts per 5-minute window, event type and platform: each ingestion batch appends its own counts in the
-- same script (and transaction) as its rows (live_event_counts/ingest_insert.sql), so readers SUM over rows. An
-- event_id sent twice counts twice here: the daily de-duplication of events does not touch this streaming view.
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.live_event_counts` (
    window_start TIMESTAMP NOT NULL,
    event_date DATE NOT NULL,
    event_type INT64 NOT NULL,
    platform STRING,
    events INT64,
    purchases INT64,
    revenue_usd FLOAT64,
    added_at TIMESTAMP
)
PARTITION BY event_date
CLUSTER BY window_start
