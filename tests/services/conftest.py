"""The four services as real processes on the shared Redis, started once for the session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.service_processes import ServiceProcess, serving_mesh


@pytest.fixture(scope="session")
def mesh_services(redis_url: str) -> Iterator[dict[str, ServiceProcess]]:
    """module -> running service, each SERVING on free ports with a prefix of its own."""
    with serving_mesh(redis_url) as services:
        yield services
