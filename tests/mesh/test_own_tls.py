"""`jobmesh up` on TLS the operator made (not --dev-tls): its health checks trust the operator's CA
and, where the services require client certificates, present the one JOBMESH_UP_TLS_* names; when
they require one and none is named, up says so at once instead of timing out."""

from __future__ import annotations

import signal
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mesh.dev_tls import DevPki, ensure_dev_pki
from mesh.supervisor import UpTls, up_tls
from queue_system.settings import ConfigError
from tests.mesh.test_up import _started, free_ports_env, running_up

pytestmark = pytest.mark.slow


def operator_tls(pki: DevPki) -> dict[str, str]:
    """Services on the operator's certificates, requiring client certificates of its CA."""
    return {
        "JOBMESH_TLS_CERT_FILE": str(pki.server_cert),
        "JOBMESH_TLS_KEY_FILE": str(pki.server_key),
        "JOBMESH_TLS_CLIENT_CA_FILE": str(pki.ca),
    }


def _health(address: str, credentials: grpc.ChannelCredentials) -> int:
    with grpc.secure_channel(address, credentials) as channel:
        reply = health_pb2_grpc.HealthStub(channel).Check(health_pb2.HealthCheckRequest(), timeout=5)
    return int(reply.status)


def test_up_checks_mtls_services_with_the_client_certificate_it_is_given(tmp_path: Path) -> None:
    pki = ensure_dev_pki(tmp_path / "operator-pki")
    env = free_ports_env(
        **operator_tls(pki),
        JOBMESH_UP_TLS_CA_FILE=str(pki.ca),
        JOBMESH_UP_TLS_CERT_FILE=str(pki.client_cert),
        JOBMESH_UP_TLS_KEY_FILE=str(pki.client_key),
    )
    with running_up(env=env) as mesh:
        _, services = _started(mesh)
        with_cert = grpc.ssl_channel_credentials(
            pki.ca.read_bytes(), pki.client_key.read_bytes(), pki.client_cert.read_bytes()
        )
        for m in services.values():
            assert _health(m["address"], with_cert) == health_pb2.HealthCheckResponse.SERVING
        with pytest.raises(grpc.RpcError) as refused:  # the services do require a certificate
            _health(services["trading-svc"]["address"], grpc.ssl_channel_credentials(pki.ca.read_bytes()))
        assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
        mesh.proc.send_signal(signal.SIGINT)
        assert mesh.finish(timeout=60) == 0


def test_up_without_a_client_certificate_for_mtls_services_refuses_at_once(tmp_path: Path) -> None:
    pki = ensure_dev_pki(tmp_path / "operator-pki")
    with running_up(env=free_ports_env(**operator_tls(pki))) as mesh:
        assert mesh.finish(timeout=30) == 2
        said = mesh.stderr()
    assert "JOBMESH_UP_TLS_CERT_FILE" in said and "JOBMESH_TLS_CLIENT_CA_FILE" in said
    assert not any(line.startswith("jobmesh: Redis") for line in mesh.lines)  # nothing was started


def test_the_up_tls_variables_are_read_and_checked(tmp_path: Path) -> None:
    pki = ensure_dev_pki(tmp_path / "pki")
    read = up_tls(
        {
            "JOBMESH_UP_TLS_CA_FILE": str(pki.ca),
            "JOBMESH_UP_TLS_CERT_FILE": str(pki.client_cert),
            "JOBMESH_UP_TLS_KEY_FILE": str(pki.client_key),
            "JOBMESH_UP_TLS_SERVER_NAME": "mesh.internal",
        }
    )
    assert read == UpTls(
        pki.ca.read_bytes(), pki.client_cert.read_bytes(), pki.client_key.read_bytes(), "mesh.internal"
    )
    assert up_tls({}) == UpTls()
    with pytest.raises(ConfigError, match="JOBMESH_UP_TLS_KEY_FILE"):
        up_tls({"JOBMESH_UP_TLS_CERT_FILE": str(pki.client_cert)})
    with pytest.raises(ConfigError, match="JOBMESH_UP_TLS_CA_FILE"):
        up_tls({"JOBMESH_UP_TLS_CA_FILE": str(tmp_path / "absent.pem")})
