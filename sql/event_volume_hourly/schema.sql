-- Events per hour and event group, MERGEd by the health DAG (health/measure.py) for the 24 whole hours before
-- its run plus the current one; the health page's 24 h chart and events_24h read it.
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.event_volume_hourly` (
    hour TIMESTAMP NOT NULL,
    event_group STRING NOT NULL,
    events INT64 NOT NULL,
    measured_at TIMESTAMP NOT NULL
)
PARTITION BY DATE(hour)
