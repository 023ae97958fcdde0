"""Each service's /metrics: Prometheus text that parses, carries the gRPC metrics, and passes promtool."""

from __future__ import annotations

import os
import shutil
import subprocess
import urllib.request

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.service_processes import SERVED, ServiceProcess

# The seed's gauge keeps its dashboard name; promtool warns about the `_total` suffix of a gauge.
ALLOWED_WARNING = "active_jobs_total"


def scrape(url: str) -> str:
    with urllib.request.urlopen(url, timeout=5) as reply:
        assert reply.status == 200
        assert reply.headers.get_content_type() == "text/plain"
        return str(reply.read().decode())


def promtool_problems(text: str) -> list[str]:
    """What `promtool check metrics` objects to, minus the one allowed warning (empty = passes)."""
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("CI"):
            pytest.fail("promtool is not installed (CI needs it: apt-get install prometheus)")
        pytest.skip("promtool is not installed")
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30, check=False
    )
    lines = [ln for ln in (result.stdout + result.stderr).splitlines() if ln.strip()]
    problems = [ln for ln in lines if ALLOWED_WARNING not in ln]
    if result.returncode != 0 and not lines:
        problems.append(f"promtool exited {result.returncode} without saying why")
    if result.returncode not in (0, 3):  # 3: lint problems, which are all listed above
        problems.append(f"promtool exited {result.returncode}")
    return problems


@pytest.mark.parametrize("module", sorted(SERVED))
def test_metrics_parse_and_count_grpc_calls(module: str, mesh_services: dict[str, ServiceProcess]) -> None:
    svc = mesh_services[module]
    assert svc.health() == "SERVING"  # at least one handled call to count
    families = {f.name: f for f in text_string_to_metric_families(scrape(svc.metrics_url))}

    handled = families["grpc_server_handled"]
    assert handled.type == "counter"
    checks = [
        s
        for s in handled.samples
        if s.name == "grpc_server_handled_total"
        and s.labels
        == {
            "grpc_type": "unary",
            "grpc_service": "grpc.health.v1.Health",
            "grpc_method": "Check",
            "grpc_code": "OK",
        }
    ]
    assert checks and checks[0].value >= 1
    assert families["grpc_server_handling_seconds"].type == "histogram"
    assert families["grpc_server_started"].type == "counter"


@pytest.mark.parametrize("module", sorted(SERVED))
def test_metrics_pass_promtool(module: str, mesh_services: dict[str, ServiceProcess]) -> None:
    svc = mesh_services[module]
    svc.health()
    assert promtool_problems(scrape(svc.metrics_url)) == []


def test_promtool_check_can_fail() -> None:
    """The check above is not vacuous: a counter without `_total` is reported."""
    bad = "# HELP jobs Jobs.\n# TYPE jobs counter\njobs 1\n"
    assert promtool_problems(bad)
    allowed = "# HELP active_jobs_total Active.\n# TYPE active_jobs_total gauge\nactive_jobs_total 1\n"
    assert promtool_problems(allowed) == []
