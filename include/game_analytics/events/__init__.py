"""Game events once decoded: enrichment into `events` rows, loading, and the DLQ reason codes."""
