"""A bad environment variable stops a service before anything starts: exit 2, one line naming it."""

from __future__ import annotations

import pytest

from tests.service_processes import SPECS, base_env, run_module


def _one_line_error(module: str, **env: str) -> str:
    result = run_module(module, base_env(**env))
    lines = result.stderr.splitlines()
    assert result.returncode == 2, result.stderr
    assert len(lines) == 1, result.stderr
    assert result.stdout == ""
    assert lines[0].startswith(f"{SPECS[module].name}: ")
    return lines[0]


@pytest.mark.parametrize("module", sorted(SPECS))
def test_nonsense_redis_url(module: str) -> None:
    line = _one_line_error(module, REDIS_URL="nonsense")
    assert "REDIS_URL" in line
    assert "expected" in line


@pytest.mark.parametrize("module", sorted(SPECS))
def test_bad_port_variables(module: str) -> None:
    stem = SPECS[module].env_stem
    assert f"{stem}_PORT" in _one_line_error(module, **{f"{stem}_PORT": "99999"})
    assert f"{stem}_METRICS_PORT" in _one_line_error(module, **{f"{stem}_METRICS_PORT": "http"})


def test_a_bad_redis_url_never_prints_its_password() -> None:
    line = _one_line_error("trading_svc", REDIS_URL="redis://:s3cret-pw@redis.internal:notaport/0")
    assert "REDIS_URL" in line
    assert "s3cret-pw" not in line


def test_other_variables_are_named_too() -> None:
    line = _one_line_error("worker_trading", WORKER_TRADING_CONCURRENCY="lots")
    assert "WORKER_TRADING_CONCURRENCY" in line
    assert "LOG_LEVEL" in _one_line_error("dlq_svc", LOG_LEVEL="chatty")


def test_a_bad_failpoint_is_named_at_start_up() -> None:
    line = _one_line_error("worker_trading", JOBMESH_FAILPOINTS="strategy-execution.after-order=soon")
    assert "JOBMESH_FAILPOINTS" in line and "name=seconds" in line
