"""The four services as real processes on the shared Redis, started once for the session."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from tests.service_processes import ServiceProcess, start_all, stop_all, wait_for


@pytest.fixture(scope="session")
def mesh_services(redis_url: str) -> Iterator[dict[str, ServiceProcess]]:
    """module -> running service, each SERVING on free ports with a prefix of its own."""
    services = start_all(redis_url, QUEUE_PREFIX=f"t{uuid.uuid4().hex[:10]}")
    try:
        wait_for(services.values(), "SERVING")
        yield services
    finally:
        stop_all(services.values())
