-- One row per rejected message, kept with its reason so nothing is silently dropped.
-- event_date: the UTC day of the message's event when its timestamp could be read (even if the message was
-- rejected for another reason), else NULL; the DLQ-share checks count a dead letter against that day, or against
-- the day it failed when NULL.
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.events_dlq` (
    raw_value STRING,
    raw_value_encoding STRING,
    message_key STRING,
    reason_code STRING NOT NULL,
    reason_text STRING,
    kafka_topic STRING,
    kafka_partition INT64,
    kafka_offset INT64,
    failed_at TIMESTAMP NOT NULL,
    event_date DATE
)
PARTITION BY DATE(failed_at);

-- Tables created before event_date existed get the column (a no-op on the others).
ALTER TABLE `{{ project }}.{{ dataset }}.events_dlq` ADD COLUMN IF NOT EXISTS event_date DATE;
