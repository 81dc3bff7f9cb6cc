"""Fixtures of the monitoring tests, defined once elsewhere and shared here rather than copied.

``services``: docker-compose.yaml's services, as tests/test_docker_compose.py reads them. ``server`` and ``seeded``:
the health page's fixtures (tests/ui/conftest.py), the real api-server serving /pipeline-health/metrics from seeded
warehouse rows; importing that conftest also sets the scrape token (GA_METRICS_TOKEN) the api-server starts with.
"""

from tests.test_docker_compose import services  # noqa: F401
from tests.ui.conftest import seeded, server  # noqa: F401
