-- One row per ingestion attempt (a try of a run's shard: ingest/attempts.py), MERGEd on (run_id, try_number, shard):
-- written by each batch's script as it commits, then with how the attempt ended (state). The health measurements
-- read it: events/s and the DLQ rate over every attempt, the time since the last successful one.
CREATE TABLE IF NOT EXISTS `{{ project }}.{{ dataset }}.ingestion_runs` (
    run_id STRING NOT NULL,
    consumer_group STRING NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    consumed INT64,
    loaded INT64,
    duplicates INT64,
    dead_lettered INT64,
    already_dead_lettered INT64,
    dead_lettered_by_reason STRING,
    seconds FLOAT64,
    events_per_second FLOAT64,
    consumer_lag INT64,
    stopped_because STRING,
    shard INT64,
    try_number INT64,
    state STRING
)
PARTITION BY DATE(finished_at);

-- Tables created before shards (then attempts) existed get the columns (a no-op on the others).
ALTER TABLE `{{ project }}.{{ dataset }}.ingestion_runs` ADD COLUMN IF NOT EXISTS shard INT64;
ALTER TABLE `{{ project }}.{{ dataset }}.ingestion_runs` ADD COLUMN IF NOT EXISTS try_number INT64;
ALTER TABLE `{{ project }}.{{ dataset }}.ingestion_runs` ADD COLUMN IF NOT EXISTS state STRING
