"""Exactly-once ingestion of `game-events-raw` into `events`, with every rejected message kept and explained.

Guarantee: whatever crashes when, each Kafka message is stored once (a valid one in `events`, an invalid one in
`events_dlq` with its reason code), nothing consumed is lost, and each valid event_id is once in what the daily DAG
reads. How:

* **The warehouse is the source of truth for progress.** Each micro-batch ends in ONE BigQuery script (a
  transaction) that appends to `events` and `events_dlq` the batch's messages past the offsets recorded in
  `ingestion_offsets` for their partitions, and moves those offsets forward. Rows and offsets become visible
  together; nothing in it reads `events` or `events_dlq`, so its cost follows the batch, not the history.
* **Kafka offsets are committed after that, synchronously**, and only as a convenience (lag monitoring, a
  fast start): a run starts each partition at max(group offset, warehouse offset), so a crash between the
  two commits costs nothing. A failed Kafka commit is logged, not fatal.
* **Every step is idempotent**, so re-reading a batch (a crash before the script, a zombie try) adds nothing: the
  offset check skips messages already taken.
* **event_id de-duplication is daily**: an event sent in two messages is two rows until the daily DAG's
  sensor ``wait_for_events`` keeps one copy of its day (``sql/events/deduplicate.sql``; see :mod:`.loader`).
* **Shards**: ``GA_INGEST_SHARDS`` tasks per run, each owning the partitions p % shards == its index, assigned,
  never rebalanced (:mod:`.consumer`); all of the above is per partition.
* The Airflow Kafka provider's ``ConsumeFromTopicOperator`` is not used: it commits offsets itself (with
  ``end_of_batch`` asynchronously, past a batch whose processing failed) and never records them in the
  warehouse, which breaks the guarantee. Its hooks are fine: the DAG reads the connection through them.

Dead letters also go to the `game-events-dlq` topic (headers: reason, reason text, original topic, partition,
offset; keyed by the original key) *before* the transaction: at-least-once there, the table is authoritative
(see :mod:`.dlq`).

Throughput: the hot path is batch-wise. Per message Python only reads the Kafka fields (and decodes Avro with
fastavro, re-serialised as JSON); first bytes, sizes and UTF-8 are checked over the whole batch at once; the batch
becomes Arrow columns built from buffers
(:mod:`.columns`), and DuckDB parses, validates and enriches it in one query and writes the staging Parquet file
(:mod:`.validate`, :mod:`.batch`). BigQuery sees two load jobs and one script per batch (:mod:`.loader`), on a
warehouse thread while the next batch is consumed and prepared; Kafka offsets are committed in batch order, each
after its batch is durable. Batches are bounded by messages and seconds, a run by seconds (:mod:`.run`), and end
of partition comes from the consumer's EOF events (:mod:`.consumer`).

Replay: a new group id (``group_id=``) re-reads the topic from the start (the start offsets are per group) and
appends nothing already taken by any group (the offset check). To store messages again (say, dead letters of a
defect since fixed), delete the topic's ``ingestion_offsets`` rows of those partitions first: the valid messages
are appended again and the daily de-duplication keeps one copy of each. Resetting only the Kafka group
offsets does not rewind a group (the warehouse offset wins); delete its `ingestion_offsets` rows too.
"""

from game_analytics.ingest.report import IngestionReport
from game_analytics.ingest.run import CRASH_POINTS, run_ingestion

__all__ = ["CRASH_POINTS", "IngestionReport", "run_ingestion"]
