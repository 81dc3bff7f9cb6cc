"""Where a ``gs://`` URI lives on this machine.

On the local stack the BigQuery emulator writes ``gs://bucket/path`` to ``$BQEMU_GCS_LOCAL_ROOT/bucket/path``; the
local training reads and writes through the same mapping. In production (no local root) there is no local path:
code that needs one is the local path only (Vertex AI reads GCS itself).
"""

from __future__ import annotations

import os
from pathlib import Path


def local_path(uri: str) -> Path:
    root = os.environ.get("BQEMU_GCS_LOCAL_ROOT")
    if not uri.startswith("gs://"):
        raise ValueError(f"not a gs:// URI: {uri!r}")
    if not root:
        raise RuntimeError(f"{uri} has no local path: BQEMU_GCS_LOCAL_ROOT is not set (local stack only)")
    return Path(root) / uri.removeprefix("gs://")
