"""Airflow Assets of the pipeline: the raw topic, every catalogue table, the features folder and the model.

The ingestion task and each task that builds a table, exports features or trains the model declares what it
writes as outlets (and the ingestion what it reads as an inlet), so the UI's asset graph shows the lineage
raw topic -> ``events`` -> metric tables -> features -> model. URIs follow the providers' schemes
(``bigquery://project/dataset/table``, ``gs://bucket/path``, ``kafka://cluster/topic``), which OpenLineage
understands. Asset names are the short names people search for (a table's name).
"""

from __future__ import annotations

from airflow.sdk import Asset

from game_analytics.catalogue import Table
from game_analytics.config import Settings


def table_asset(settings: Settings, table: Table) -> Asset:
    """A warehouse table, or for a feature export its folder in the features bucket."""
    if table.kind == "feature":
        return Asset(name=table.name, uri=f"gs://{settings.features_bucket}/{table.name}")
    return Asset(name=table.name, uri=f"bigquery://{settings.bq_project}/{settings.bq_dataset}/{table.name}")


def raw_topic_asset(settings: Settings) -> Asset:
    return Asset(name=settings.raw_topic, uri=f"kafka://{settings.kafka_cluster}/{settings.raw_topic}")


def model_asset(settings: Settings) -> Asset:
    return Asset(name=settings.model_root.rsplit("/", 1)[-1], uri=settings.model_root)
