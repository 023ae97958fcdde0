"""The auth interceptor on a real server: tokens, roles, mTLS, TLS, per-caller limits and the audit.

A worker service (the kit's WorkerService over the trading queues) runs in the
test's loop with the production server runner, on the shared Redis under the
test's prefix, with certificates made in the test.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import grpc
import pytest
import redis.asyncio as aioredis
from google.rpc import error_details_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from jobmesh.auth.v1 import auth_pb2
from jobmesh.worker.v1 import worker_service_pb2 as pb
from jobmesh.worker.v1 import worker_service_pb2_grpc as pb_grpc
from mesh.dev_tls import DevPki, Issued, ensure_dev_pki, issue, make_ca
from queue_system.caller_rate import CallerRate
from queue_system.catalog import SYSTEM_EVENTS_CHANNEL, TRADING_QUEUES
from queue_system.keys import AuditField, audit_stream, caller_rate
from queue_system.settings import ConfigError
from service_kit.auth import (
    CallerLimits,
    SharedCallerLimits,
    credential_line,
    new_token,
    parse_credentials,
    required_roles,
)
from service_kit.server import ServedService, Service, ServiceContext
from service_kit.settings import SERVICE_BY_MODULE, ServiceSettings, load, load_security
from service_kit.worker_service import WorkerRole, build_worker
from tests.queue_system.conftest import wait_until
from tests.service_kit.wire import SERVICES, Answer, methods, path
from tests.service_processes import free_port

SPEC = SERVICE_BY_MODULE["worker_trading"]
TOKENS = {"viewer": new_token(), "operator": new_token(), "trader": new_token()}


def _credentials_text(extra: str = "") -> str:
    lines = [credential_line(f"{role}-bot", [role], token) for role, token in TOKENS.items()]
    return "\n".join([*lines, "cert-op operator mtls", extra])


def _bearer(role: str) -> tuple[tuple[str, str], ...]:
    return (("authorization", f"Bearer {TOKENS[role]}"),)


def _build(context: ServiceContext) -> list[ServedService]:
    return list(build_worker(context, WorkerRole(queues=TRADING_QUEUES)))


async def _service(
    make_settings: Callable[..., Any], tmp_path: Path, **env: str
) -> tuple[Service, DevPki]:
    pki = ensure_dev_pki(tmp_path / "pki")
    security_env = {"JOBMESH_AUTH_TOKENS": _credentials_text(), **env}
    settings = ServiceSettings(
        runtime=make_settings(),
        grpc_ports={SPEC.module: free_port()},
        metrics_ports={SPEC.module: free_port()},
        security=load_security(security_env.get, "127.0.0.1"),
    )
    service = Service(SPEC, settings, _build)
    await service.start()
    return service, pki


@pytest.fixture
async def token_service(
    make_settings: Callable[..., Any], tmp_path: Path
) -> AsyncIterator[tuple[pb_grpc.WorkerServiceStub, Service]]:
    """Bearer tokens over plaintext loopback, 3 state-changing calls per minute per caller."""
    service, _ = await _service(make_settings, tmp_path, JOBMESH_AUTH_RATE_LIMIT="3/60s")
    channel = grpc.aio.insecure_channel(f"127.0.0.1:{service.grpc_port}")
    try:
        yield pb_grpc.WorkerServiceStub(channel), service
    finally:
        await channel.close()
        await service.stop()


async def _code(call: Any) -> grpc.StatusCode:
    try:
        await call
    except grpc.aio.AioRpcError as exc:
        return exc.code()
    return grpc.StatusCode.OK


# --- the contract ------------------------------------------------------------------------------


def test_every_rpc_of_the_contract_names_the_role_it_needs() -> None:
    """The build fails here when an RPC is added without `(jobmesh.auth.v1.required_role)`;
    reads (Get, List, Watch, Download) need viewer, and everything else needs more, except reading
    the audit trail (who did what is an admin's to know)."""
    roles = required_roles(s.full_name for s in SERVICES)
    missing = [path(m) for _, m in methods() if roles[path(m)] == auth_pb2.ROLE_UNSPECIFIED]
    assert missing == [], f"RPCs without (jobmesh.auth.v1.required_role): {missing}"
    admin_reads = {"/jobmesh.auth.v1.AuditService/ListAuditEntries"}
    for _, method in methods():
        named_a_read = method.name.startswith(("Get", "List", "Watch", "Download"))
        reads = named_a_read and path(method) not in admin_reads
        assert (roles[path(method)] == auth_pb2.ROLE_VIEWER) == reads, path(method)
    assert all(roles[p] == auth_pb2.ROLE_ADMIN for p in admin_reads)
    assert roles["/jobmesh.trading.v1.TradingService/EmergencyStopAll"] == auth_pb2.ROLE_ADMIN
    assert roles["/jobmesh.trading.v1.TradingService/DeployStrategy"] == auth_pb2.ROLE_TRADER


# --- configuration -----------------------------------------------------------------------------


def test_a_bad_credential_entry_is_named_by_number_never_by_content() -> None:
    secret_hash = "ab" * 32
    with pytest.raises(ConfigError) as caught:
        parse_credentials(f"alice viewer sha256:{secret_hash}\nbob root sha256:{secret_hash}", "X")
    assert "entry 2" in str(caught.value) and secret_hash not in str(caught.value)
    with pytest.raises(ConfigError):
        parse_credentials("carol viewer sha256:short", "X")
    parsed = parse_credentials("# comment\na viewer,operator sha256:" + "0" * 64 + "; b admin mtls", "X")
    assert [c.name for c in parsed.tokens.values()] == ["a"] and set(parsed.certificates) == {"b"}


def test_without_credentials_a_service_listens_on_loopback_only() -> None:
    assert load({}).bind_host == "127.0.0.1" and not load({}).security.authenticating
    with pytest.raises(ConfigError) as caught:
        load({"JOBMESH_BIND_HOST": "[::]"})
    assert caught.value.variable == "JOBMESH_BIND_HOST"
    assert load({"JOBMESH_BIND_HOST": "[::]", "JOBMESH_ALLOW_UNAUTHENTICATED": "true"}).bind_host == "[::]"
    token_env = {"JOBMESH_BIND_HOST": "0.0.0.0", "JOBMESH_AUTH_TOKENS": _credentials_text()}
    assert load(token_env).security.authenticating
    with pytest.raises(ConfigError) as half:
        load({"JOBMESH_TLS_CERT_FILE": "/nonexistent.pem"})
    assert half.value.variable == "JOBMESH_TLS_KEY_FILE"


def test_the_caller_limit_refills_at_its_rate() -> None:
    now = [0.0]
    limits = CallerLimits(2, 1.0, clock=lambda: now[0])
    assert limits.take("a") == 0 and limits.take("a") == 0
    assert limits.take("a") == pytest.approx(0.5)
    assert limits.take("b") == 0  # per caller
    now[0] = 0.5
    assert limits.take("a") == 0 and limits.take("a") > 0


async def test_while_redis_does_not_answer_the_limit_is_counted_per_process_then_shared_again(
    redis_client: aioredis.Redis, queue_prefix: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    now = [0.0]
    down = aioredis.Redis(host="127.0.0.1", port=free_port(), socket_connect_timeout=0.2)  # nobody listens
    rate = CallerRate(down, queue_prefix, 2, 60_000)
    limits = SharedCallerLimits(rate, CallerLimits(2, 60.0, clock=lambda: now[0]), clock=lambda: now[0])
    try:
        # refused by nothing: the local bucket admits its count, then refuses, with RetryInfo's wait
        assert [await limits.take("a"), await limits.take("a")] == [0.0, 0.0]
        assert await limits.take("a") == pytest.approx(30.0)
        assert limits._local_until == SharedCallerLimits.FALLBACK_S  # Redis is left alone meanwhile
        # a Redis that hangs rather than refuses: the same, after LIMIT_WAIT_S
        monkeypatch.setattr(SharedCallerLimits, "LIMIT_WAIT_S", 0.05)

        async def hangs(caller: str) -> float:
            await asyncio.sleep(10)
            return 0.0

        now[0] = 2.0
        monkeypatch.setattr(rate, "take", hangs)
        assert await limits.take("b") == 0.0 and limits._local_until == 3.0
        # once FALLBACK_S is over, Redis counts again
        now[0] = 3.5
        limits.shared = CallerRate(redis_client, queue_prefix, 2, 60_000)
        assert [await limits.take("a") for _ in range(3)][:2] == [0.0, 0.0]
        assert await redis_client.exists(caller_rate(queue_prefix, "a")) == 1
    finally:
        await down.aclose()


# --- over the wire -----------------------------------------------------------------------------


async def test_tokens_and_roles_decide_who_is_served(
    token_service: tuple[pb_grpc.WorkerServiceStub, Service],
) -> None:
    stub, service = token_service
    read = pb.GetQueueStatusRequest()
    assert await _code(stub.GetQueueStatus(read)) == grpc.StatusCode.UNAUTHENTICATED
    bad = (("authorization", "Bearer jm_not-a-token"),)
    with pytest.raises(grpc.aio.AioRpcError) as unknown:
        await stub.GetQueueStatus(read, metadata=bad)
    malformed = (("authorization", "Basic dXNlcjpwYXNz"),)
    with pytest.raises(grpc.aio.AioRpcError) as basic:
        await stub.GetQueueStatus(read, metadata=malformed)
    # one answer for every unknown credential: nothing tells which tokens exist
    assert unknown.value.code() == basic.value.code() == grpc.StatusCode.UNAUTHENTICATED
    assert unknown.value.details() == basic.value.details()
    assert await _code(stub.GetQueueStatus(read, metadata=_bearer("trader"))) == grpc.StatusCode.OK
    with pytest.raises(grpc.aio.AioRpcError) as denied:
        await stub.PauseQueues(pb.PauseQueuesRequest(), metadata=_bearer("viewer"))
    assert denied.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert "operator" in (denied.value.details() or "")
    info = Answer.of(denied.value).info
    assert info is not None and info.metadata["required_role"] == "operator"
    served = await stub.PauseQueues(pb.PauseQueuesRequest(request_id="p-1"), metadata=_bearer("operator"))
    assert [q.queue for q in served.queues] == list(TRADING_QUEUES)
    # health needs no credential: probes carry none
    health = health_pb2_grpc.HealthStub(grpc.aio.insecure_channel(f"127.0.0.1:{service.grpc_port}"))
    assert (await health.Check(health_pb2.HealthCheckRequest())).status in (
        health_pb2.HealthCheckResponse.SERVING, health_pb2.HealthCheckResponse.NOT_SERVING
    )


async def test_a_caller_over_its_limit_is_told_when_to_call_again(
    token_service: tuple[pb_grpc.WorkerServiceStub, Service],
) -> None:
    stub, _ = token_service
    for _ in range(3):
        await stub.ResumeQueues(pb.ResumeQueuesRequest(), metadata=_bearer("operator"))
    with pytest.raises(grpc.aio.AioRpcError) as caught:
        await stub.ResumeQueues(pb.ResumeQueuesRequest(), metadata=_bearer("operator"))
    assert caught.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    retry = _detail(caught.value, error_details_pb2.RetryInfo)
    assert retry.retry_delay.ToMilliseconds() > 0
    # reads are not limited, and the limit is per caller
    await stub.GetQueueStatus(pb.GetQueueStatusRequest(), metadata=_bearer("operator"))
    with pytest.raises(grpc.aio.AioRpcError) as other:
        await stub.ResumeQueues(pb.ResumeQueuesRequest(), metadata=_bearer("trader"))
    assert other.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_every_state_changing_call_is_audited_with_who_what_and_outcome(
    token_service: tuple[pb_grpc.WorkerServiceStub, Service],
    redis_client: aioredis.Redis,
    queue_prefix: str,
) -> None:
    stub, _ = token_service
    pubsub = redis_client.pubsub()
    await pubsub.subscribe(SYSTEM_EVENTS_CHANNEL)
    await stub.PauseQueues(pb.PauseQueuesRequest(request_id="audit-1"), metadata=_bearer("operator"))
    await _code(stub.PauseQueues(pb.PauseQueuesRequest(request_id="audit-2"), metadata=_bearer("viewer")))
    await _code(stub.PauseQueues(pb.PauseQueuesRequest(request_id="audit-3")))
    await stub.GetQueueStatus(pb.GetQueueStatusRequest(), metadata=_bearer("viewer"))  # a read: not audited
    entries = await redis_client.xrange(audit_stream(queue_prefix))
    got = [{k.decode(): v.decode() for k, v in fields.items()} for _, fields in entries]
    assert [(e[AuditField.CALLER], e[AuditField.REQUEST_ID], e[AuditField.CODE]) for e in got] == [
        ("operator-bot", "audit-1", "OK"),
        ("viewer-bot", "audit-2", "PERMISSION_DENIED"),
        ("", "audit-3", "UNAUTHENTICATED"),
    ]
    assert {e[AuditField.METHOD] for e in got} == {"/jobmesh.worker.v1.WorkerService/PauseQueues"}
    assert all(e[AuditField.SERVICE] == "worker-trading" and e[AuditField.PEER] for e in got)
    assert json.loads(got[0][AuditField.REQUEST]) == {"requestId": "audit-1"}
    events: list[dict[str, Any]] = []

    async def three() -> bool:
        message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message is not None:
            event = json.loads(message["data"])
            if event["event"] == "rpc_audited" and event["data"]["method"].endswith("PauseQueues"):
                events.append(event)
        return len(events) >= 3

    await wait_until(three)
    assert [e["data"].get("requestId") for e in events] == ["audit-1", "audit-2", "audit-3"]
    assert events[0]["service"] == "worker-trading" and events[0]["data"]["caller"] == "operator-bot"
    await pubsub.aclose()


# --- TLS and mTLS ------------------------------------------------------------------------------


async def test_tls_serves_tokens_and_a_plaintext_client_fails_cleanly(
    make_settings: Callable[..., Any], tmp_path: Path
) -> None:
    pki = ensure_dev_pki(tmp_path / "pki")
    service, _ = await _service(
        make_settings, tmp_path,
        JOBMESH_TLS_CERT_FILE=str(pki.server_cert), JOBMESH_TLS_KEY_FILE=str(pki.server_key),
    )
    address = f"localhost:{service.grpc_port}"
    try:
        creds = grpc.ssl_channel_credentials(pki.ca.read_bytes())
        async with grpc.aio.secure_channel(address, creds) as channel:
            stub = pb_grpc.WorkerServiceStub(channel)
            await stub.GetQueueStatus(pb.GetQueueStatusRequest(), metadata=_bearer("viewer"), timeout=10)
            assert await _code(stub.GetQueueStatus(pb.GetQueueStatusRequest())) == (
                grpc.StatusCode.UNAUTHENTICATED
            )
        async with grpc.aio.insecure_channel(address) as plain:
            call = pb_grpc.WorkerServiceStub(plain).GetQueueStatus(
                pb.GetQueueStatusRequest(), metadata=_bearer("viewer"), timeout=5
            )
            assert await _code(call) == grpc.StatusCode.UNAVAILABLE
    finally:
        await service.stop()


async def test_mtls_names_the_caller_by_its_certificate(
    make_settings: Callable[..., Any], tmp_path: Path
) -> None:
    pki = ensure_dev_pki(tmp_path / "pki")
    service, _ = await _service(
        make_settings, tmp_path,
        JOBMESH_TLS_CERT_FILE=str(pki.server_cert), JOBMESH_TLS_KEY_FILE=str(pki.server_key),
        JOBMESH_TLS_CLIENT_CA_FILE=str(pki.ca),
    )
    address = f"localhost:{service.grpc_port}"
    ca = pki.ca.read_bytes()
    own_ca = Issued(ca, pki.ca_key.read_bytes())
    op = issue(own_ca, "cert-op", client=True)
    stranger = issue(own_ca, "stranger", client=True)
    foreign = issue(make_ca("another CA"), "cert-op", client=True)

    async def call(cert: Any, metadata: tuple[tuple[str, str], ...] = ()) -> grpc.StatusCode:
        creds = (
            grpc.ssl_channel_credentials(ca, cert.key_pem, cert.cert_pem) if cert is not None
            else grpc.ssl_channel_credentials(ca)
        )
        async with grpc.aio.secure_channel(address, creds) as channel:
            stub = pb_grpc.WorkerServiceStub(channel)
            return await _code(stub.PauseQueues(pb.PauseQueuesRequest(), metadata=metadata, timeout=10))

    try:
        assert await call(op) == grpc.StatusCode.OK  # the certificate's CN is an operator
        assert await call(stranger) == grpc.StatusCode.UNAUTHENTICATED  # a valid cert nobody named
        assert await call(stranger, _bearer("operator")) == grpc.StatusCode.OK  # a token still works
        assert await call(foreign) == grpc.StatusCode.UNAVAILABLE  # another CA: no handshake
        assert await call(None, _bearer("operator")) == grpc.StatusCode.UNAVAILABLE  # no cert at all
    finally:
        await service.stop()


def _detail(exc: grpc.aio.AioRpcError, kind: type[Any]) -> Any:
    status = rpc_status.from_call(exc)  # type: ignore[arg-type]
    assert status is not None
    for packed in status.details:
        if packed.Is(kind.DESCRIPTOR):
            detail = kind()
            packed.Unpack(detail)
            return detail
    raise AssertionError(f"no {kind.__name__} in {status}")
