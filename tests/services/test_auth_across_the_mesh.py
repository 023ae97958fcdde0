"""Every RPC of every service, refused and served by role, over TLS, on a Redis over TLS with an ACL user.

The four services run as processes, as an operator runs them: gRPC over TLS
with bearer tokens from a credentials file, Redis over `rediss://` with an ACL
user's password in REDIS_URL and a client certificate (REDIS_TLS_*), every
certificate made in the test. The table of cases comes from the contract's
descriptors, so an RPC added without `(jobmesh.auth.v1.required_role)`, or a
service that stops checking it, fails here. Afterwards every log line, Redis
key, pub/sub message, metrics page and error the run produced is searched for
the tokens and the Redis password.
"""

from __future__ import annotations

import secrets
import threading
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import grpc
import pytest
import redis

from jobmesh.auth.v1 import audit_service_pb2 as apb
from jobmesh.auth.v1 import audit_service_pb2_grpc as apb_grpc
from jobmesh.auth.v1 import auth_pb2
from jobmesh.trading.v1 import trading_service_pb2 as tpb
from jobmesh.trading.v1 import trading_service_pb2_grpc as tpb_grpc
from mesh.dev_tls import ensure_dev_pki
from service_kit.auth import ROLE_NAMES, credential_line, new_token, required_roles
from tests.service_kit.wire import SERVICES, Answer, path
from tests.service_processes import SERVED, SPECS, ServiceProcess, stop_all, wait_for
from tests.tls_redis import TlsRedis, tls_supported

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        not tls_supported(), reason="the installed redis-server is built without TLS (no --tls-port)"
    ),
]

# Callers by name: each role alone, and one with operator and trader but not admin.
ROLES_OF: dict[str, list[str]] = {
    "viewer": ["viewer"],
    "operator": ["operator"],
    "trader": ["trader"],
    "admin": ["admin"],
    "ops-trader": ["operator", "trader"],
}
TOKENS = {name: new_token() for name in ROLES_OF}
UNKNOWN_TOKEN = new_token()
# A caller that lacks each role (every role may read, so viewer RPCs have none).
LACKING = {
    auth_pb2.ROLE_OPERATOR: "trader", auth_pb2.ROLE_TRADER: "operator", auth_pb2.ROLE_ADMIN: "ops-trader"
}
HOLDING = {
    auth_pb2.ROLE_VIEWER: "viewer", auth_pb2.ROLE_OPERATOR: "operator",
    auth_pb2.ROLE_TRADER: "trader", auth_pb2.ROLE_ADMIN: "admin",
}
NEEDED = required_roles(s.full_name for s in SERVICES)
# (service module, method) for every method each service serves
CASES = [
    (module, method)
    for module, names in SERVED.items()
    for service in SERVICES if service.full_name in names
    for method in service.methods
]


@dataclass
class SecuredMesh:
    services: dict[str, ServiceProcess]
    redis: TlsRedis
    prefix: str
    secrets: list[str]
    published: list[bytes] = field(default_factory=list)
    answers: list[str] = field(default_factory=list)


def _listen(client: redis.Redis, into: list[bytes], stop: threading.Event) -> None:
    """Every pub/sub message on every channel, for the secrets search."""
    pubsub = client.pubsub()
    pubsub.psubscribe("*")
    while not stop.is_set():
        message = pubsub.get_message(ignore_subscribe_messages=True, timeout=0.2)
        if message is not None:
            into.append(bytes(message["data"]))
    pubsub.close()


@pytest.fixture(scope="module")
def mesh(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SecuredMesh]:
    root = Path(tmp_path_factory.mktemp("secured"))
    password = f"redis-pw-{secrets.token_hex(16)}"
    server = TlsRedis(root / "redis", "jobmesh-svc", password).start()
    grpc_pki = ensure_dev_pki(root / "grpc-pki")
    credentials = root / "credentials"
    credentials.write_text(
        "\n".join(credential_line(f"{name}-bot", roles, TOKENS[name]) for name, roles in ROLES_OF.items())
    )
    prefix = f"t{uuid.uuid4().hex[:10]}"
    pki = server.pki
    env = {
        "QUEUE_PREFIX": prefix,
        "LOG_LEVEL": "DEBUG",
        "REDIS_TLS_CA_FILE": str(pki.ca),
        "REDIS_TLS_CERT_FILE": str(pki.client_cert),
        "REDIS_TLS_KEY_FILE": str(pki.client_key),
        "JOBMESH_AUTH_TOKENS_FILE": str(credentials),
        "JOBMESH_TLS_CERT_FILE": str(grpc_pki.server_cert),
        "JOBMESH_TLS_KEY_FILE": str(grpc_pki.server_key),
        "JOBMESH_AUTH_RATE_LIMIT": "100000/1s",
    }
    channel_credentials = grpc.ssl_channel_credentials(grpc_pki.ca.read_bytes())
    admin = redis.Redis.from_url(server.url())
    published: list[bytes] = []
    stop = threading.Event()
    listener = threading.Thread(target=_listen, args=(admin, published, stop), daemon=True)
    listener.start()
    services = {
        module: ServiceProcess(spec, server.url(with_files=False), dict(env), credentials=channel_credentials)
        for module, spec in SPECS.items()
    }
    try:
        for svc in services.values():
            svc.start()
        wait_for(services.values(), "SERVING", timeout=60)
        yield SecuredMesh(services, server, prefix, [*TOKENS.values(), UNKNOWN_TOKEN, password], published)
    finally:
        stop_all(services.values())
        stop.set()
        listener.join(5)
        admin.close()
        server.close()


def _call(channel: grpc.Channel, method: Any, token: str | None) -> Answer | None:
    """Call `method` with an empty request (every field unset); the answer if it fails."""
    metadata = (("authorization", f"Bearer {token}"),) if token is not None else ()
    try:
        if method.server_streaming:
            for _ in channel.unary_stream(path(method))(b"", timeout=5, metadata=metadata):
                break
        else:
            channel.unary_unary(path(method))(b"", timeout=10, metadata=metadata)
    except grpc.RpcError as exc:
        return Answer.of(exc)
    return None


def _id(case: tuple[str, Any]) -> str:
    return f"{case[0]}:{case[1].name}"


@pytest.mark.parametrize("case", CASES, ids=[_id(c) for c in CASES])
def test_every_rpc_refuses_the_unknown_and_the_unentitled_and_serves_its_role(
    mesh: SecuredMesh, case: tuple[str, Any]
) -> None:
    module, method = case
    channel = mesh.services[module].channel
    needed = NEEDED[path(method)]
    assert needed != auth_pb2.ROLE_UNSPECIFIED, f"{path(method)} has no (jobmesh.auth.v1.required_role)"
    for token in (None, UNKNOWN_TOKEN):
        answer = _call(channel, method, token)
        assert answer is not None and answer.code == grpc.StatusCode.UNAUTHENTICATED, (token is None, answer)
        mesh.answers.append(f"{answer.message} {answer.info}")
    if needed in LACKING:
        answer = _call(channel, method, TOKENS[LACKING[needed]])
        assert answer is not None and answer.code == grpc.StatusCode.PERMISSION_DENIED, answer
        assert answer.info is not None and answer.info.metadata["required_role"] == ROLE_NAMES[needed]
        assert ROLE_NAMES[needed] in answer.message
        mesh.answers.append(f"{answer.message} {answer.info}")
    for holder in {HOLDING[needed], "admin"}:
        answer = _call(channel, method, TOKENS[holder])
        refused = (grpc.StatusCode.UNAUTHENTICATED, grpc.StatusCode.PERMISSION_DENIED)
        assert answer is None or answer.code not in refused, (holder, answer)
        if answer is not None:
            mesh.answers.append(f"{answer.message} {answer.info}")


def test_the_audit_stream_names_each_caller_of_a_state_changing_rpc(mesh: SecuredMesh) -> None:
    client = redis.Redis.from_url(mesh.redis.url())
    try:
        entries = client.xrange(f"{mesh.prefix}:audit")
    finally:
        client.close()
    seen = {(f[b"method"].decode(), f[b"caller"].decode(), f[b"code"].decode()) for _, f in entries}
    drain = "/jobmesh.queue.v1.QueueService/DrainQueue"
    assert (drain, "", "UNAUTHENTICATED") in seen
    assert (drain, "trader-bot", "PERMISSION_DENIED") in seen
    assert any(m == drain and c == "operator-bot" and code != "PERMISSION_DENIED" for m, c, code in seen)
    stop_all_ = "/jobmesh.trading.v1.TradingService/EmergencyStopAll"
    assert (stop_all_, "ops-trader-bot", "PERMISSION_DENIED") in seen
    assert any(m == stop_all_ and c == "admin-bot" and code != "PERMISSION_DENIED" for m, c, code in seen)


def _read_trail(svc: ServiceProcess, request: apb.ListAuditEntriesRequest) -> list[apb.AuditEntry]:
    """Every page of ListAuditEntries from `svc`, as the admin."""
    stub = apb_grpc.AuditServiceStub(svc.channel)
    admin = (("authorization", f"Bearer {TOKENS['admin']}"),)
    entries: list[apb.AuditEntry] = []
    while True:
        page = stub.ListAuditEntries(request, metadata=admin, timeout=10)
        assert len(page.entries) <= request.page_size
        entries.extend(page.entries)
        if not page.next_page_token:
            return entries
        request.page_token = page.next_page_token


def test_an_admin_reads_the_same_trail_from_every_service_with_filters_and_pages(mesh: SecuredMesh) -> None:
    client = redis.Redis.from_url(mesh.redis.url())
    try:
        stored = client.xrevrange(f"{mesh.prefix}:audit")
    finally:
        client.close()
    drain = "/jobmesh.queue.v1.QueueService/DrainQueue"
    expected = [i.decode() for i, f in stored if f[b"method"].decode() == drain]
    for svc in mesh.services.values():
        # one entry a page: the paging, end to end, on the stream every service shares
        entries = _read_trail(svc, apb.ListAuditEntriesRequest(method="QueueService/DrainQueue", page_size=1))
        assert [e.entry_id for e in entries] == expected, svc.spec.module
    entries = _read_trail(mesh.services["dlq_svc"], apb.ListAuditEntriesRequest(method=drain, page_size=500))
    seen = {(e.caller, e.code) for e in entries}
    assert ("", "UNAUTHENTICATED") in seen and ("trader-bot", "PERMISSION_DENIED") in seen
    assert any(c == "operator-bot" and code != "PERMISSION_DENIED" for c, code in seen)
    assert all(e.service == "trading-svc" and e.peer and e.time.seconds > 0 for e in entries)
    denied = _read_trail(mesh.services["worker_trading"], apb.ListAuditEntriesRequest(
        caller="ops-trader-bot", code="PERMISSION_DENIED", method="EmergencyStopAll", page_size=500
    ))
    assert denied and all(e.method == "/jobmesh.trading.v1.TradingService/EmergencyStopAll" for e in denied)
    # a window ending before the first entry holds nothing
    first = min(e.time.ToMilliseconds() for e in entries)
    until = apb.ListAuditEntriesRequest(method=drain, page_size=500)
    until.until.FromMilliseconds(first)
    assert _read_trail(mesh.services["worker_financial"], until) == []


def _redis_dump(client: redis.Redis) -> Iterator[bytes]:
    """Every key and value in Redis, whatever its type."""
    for key in client.scan_iter(count=1000):
        yield key
        kind = client.type(key)
        if kind == b"string":
            yield client.get(key) or b""
        elif kind == b"hash":
            for k, v in client.hgetall(key).items():
                yield k + b"=" + v
        elif kind == b"list":
            yield from client.lrange(key, 0, -1)
        elif kind == b"set":
            yield from client.smembers(key)
        elif kind == b"zset":
            yield from client.zrange(key, 0, -1)
        elif kind == b"stream":
            for _, fields in client.xrange(key):
                for k, v in fields.items():
                    yield k + b"=" + v


def test_no_token_or_password_appears_in_logs_events_metrics_redis_or_errors(mesh: SecuredMesh) -> None:
    texts: dict[str, str] = {}
    for module, svc in mesh.services.items():
        texts[f"{module} log"] = svc.log()
        with urllib.request.urlopen(svc.metrics_url, timeout=5) as reply:
            texts[f"{module} metrics"] = reply.read().decode()
    client = redis.Redis.from_url(mesh.redis.url())
    try:
        texts["redis keys and values"] = b"\n".join(_redis_dump(client)).decode(errors="replace")
    finally:
        client.close()
    texts["pub/sub messages"] = b"\n".join(mesh.published).decode(errors="replace")
    texts["errors callers got"] = "\n".join(mesh.answers)
    texts["redis-server log"] = (mesh.redis.directory / "data" / "redis.log").read_text(errors="replace")
    assert texts["errors callers got"] and "rpc_audited" in texts["pub/sub messages"]  # the run did happen
    assert "DEBUG" in texts["trading_svc log"]  # ... and logged all it logs
    for secret in mesh.secrets:
        leaks = [where for where, text in texts.items() if secret in text]
        assert leaks == [], f"a secret appears in: {leaks}"


def test_a_strategys_history_names_who_deployed_and_who_stopped_it(mesh: SecuredMesh) -> None:
    stub = tpb_grpc.TradingServiceStub(mesh.services["trading_svc"].channel)
    deployed = stub.DeployStrategy(
        tpb.DeployStrategyRequest(strategy_name="test", exchange="binance", symbol="BTC/USD"),
        metadata=(("authorization", f"Bearer {TOKENS['trader']}"),), timeout=10,
    ).strategy
    stub.StopStrategy(
        tpb.StopStrategyRequest(strategy_id=deployed.strategy_id, reason="end of day"),
        metadata=(("authorization", f"Bearer {TOKENS['ops-trader']}"),), timeout=10,
    )
    history = stub.GetStrategyHistory(
        tpb.GetStrategyHistoryRequest(strategy_id=deployed.strategy_id),
        metadata=(("authorization", f"Bearer {TOKENS['viewer']}"),), timeout=10,
    )
    reasons = [t.reason for t in history.transitions]
    assert reasons[0] == "deployed by trader-bot"
    assert "end of day (by ops-trader-bot)" in reasons
