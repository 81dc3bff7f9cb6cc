-- One row per successful ingestion run and shard (ingest/run.py), MERGEd on (run_id, shard) so a retried task
-- replaces its row; the health measurements (events/s, DLQ rate, time since the last successful run) read it.
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
    shard INT64
)
PARTITION BY DATE(finished_at);

-- Tables created before shards existed get the column (a no-op on the others).
ALTER TABLE `{{ project }}.{{ dataset }}.ingestion_runs` ADD COLUMN IF NOT EXISTS shard INT64
