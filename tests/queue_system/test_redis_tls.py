"""The queue runtime on a Redis that speaks only TLS, requires a client certificate and an ACL user.

REDIS_URL carries the ACL user and password (`rediss://user:pass@host:port/0`),
REDIS_TLS_* the CA and the client certificate; every Redis client jobmesh makes
from the URL (the queue's, taskiq's result backend) gets them. Skipped where the
installed redis-server is built without TLS.
"""

from __future__ import annotations

import gc
import socket
import ssl
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis
import redis.exceptions

from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import financial_jobs_pb2 as fin
from queue_system.catalog import CATEGORIZATION
from queue_system.manager import QueueManager
from queue_system.settings import ConfigError, load
from tests.tls_redis import TlsRedis, tls_supported

needs_tls = pytest.mark.skipif(
    not tls_supported(), reason="the installed redis-server is built without TLS (no --tls-port)"
)
PASSWORD = f"pw-{uuid.uuid4().hex}"


@pytest.fixture(scope="module")
def tls_redis(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsRedis]:
    server = TlsRedis(Path(tmp_path_factory.mktemp("redis-tls")), "queue-user", PASSWORD).start()
    try:
        yield server
    finally:
        server.close()


def _env(server: TlsRedis, password: str = PASSWORD) -> dict[str, str]:
    pki = server.pki
    return {
        "REDIS_URL": server.url(with_files=False).replace(PASSWORD, password),
        "REDIS_TLS_CA_FILE": str(pki.ca),
        "REDIS_TLS_CERT_FILE": str(pki.client_cert),
        "REDIS_TLS_KEY_FILE": str(pki.client_key),
        "QUEUE_PREFIX": f"t{uuid.uuid4().hex[:10]}",
    }


@needs_tls
async def test_jobs_are_added_and_counted_over_tls_as_an_acl_user(tls_redis: TlsRedis) -> None:
    settings = load(_env(tls_redis))
    assert PASSWORD not in settings.redis_url_redacted and "queue-user" in settings.redis_url_redacted
    manager = QueueManager(settings, service="tls-test")
    try:
        payload = env.JobPayload(categorization=fin.CategorizationJob(
            transaction_ids=["tx_1"], method=fin.CATEGORIZATION_METHOD_RULES
        ))
        added = await manager.add_job(CATEGORIZATION, payload)
        assert added.queue == CATEGORIZATION
        stats = await manager.get_queue_stats(CATEGORIZATION)
        assert stats.counts.waiting + stats.counts.prioritized == 1
        assert await manager.client.acl_whoami() == "queue-user"
    finally:
        await manager.close()


@needs_tls
async def test_a_wrong_password_is_refused_without_saying_it(tls_redis: TlsRedis) -> None:
    wrong = f"wrong-{uuid.uuid4().hex}"
    settings = load(_env(tls_redis, password=wrong))
    client = aioredis.Redis.from_url(settings.redis_url)
    try:
        with pytest.raises(redis.exceptions.AuthenticationError) as caught:
            await client.ping()
    finally:
        await client.aclose()
    assert wrong not in str(caught.value) and wrong not in settings.redis_url_redacted
    # redis-py drops the TLS transport of a connection whose AUTH failed without closing it:
    # collect it while the loop that owns it still runs, not after (an "unraisable" then)
    gc.collect()


@needs_tls
def test_without_the_client_certificate_the_server_answers_nothing(tls_redis: TlsRedis) -> None:
    """A TLS client that trusts the server but shows no certificate gets no PONG."""
    context = ssl.create_default_context(cafile=str(tls_redis.pki.ca))
    got = b""
    with socket.create_connection(("127.0.0.1", tls_redis.port), timeout=5) as raw:
        try:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
                tls.sendall(b"PING\r\n")
                got = tls.recv(64)
        except (ssl.SSLError, ConnectionError):
            got = b""
    assert not got.startswith(b"+PONG")


def test_redis_tls_files_need_rediss_a_file_and_their_pair(tmp_path: Path) -> None:
    pem = tmp_path / "ca.pem"
    pem.write_text("-----BEGIN CERTIFICATE-----\n")
    with pytest.raises(ConfigError) as plain:
        load({"REDIS_URL": "redis://127.0.0.1:6379/0", "REDIS_TLS_CA_FILE": str(pem)})
    assert plain.value.variable == "REDIS_TLS_CA_FILE"
    with pytest.raises(ConfigError) as missing:
        load({"REDIS_URL": "rediss://127.0.0.1:6380/0", "REDIS_TLS_CA_FILE": str(tmp_path / "none.pem")})
    assert missing.value.variable == "REDIS_TLS_CA_FILE"
    with pytest.raises(ConfigError) as half:
        load({"REDIS_URL": "rediss://127.0.0.1:6380/0", "REDIS_TLS_CERT_FILE": str(pem)})
    assert half.value.variable == "REDIS_TLS_KEY_FILE"
    url = load({"REDIS_URL": "rediss://u:p@127.0.0.1:6380/0", "REDIS_TLS_CA_FILE": str(pem)}).redis_url
    assert url == f"rediss://u:p@127.0.0.1:6380/0?ssl_ca_certs={str(pem).replace('/', '%2F')}"
