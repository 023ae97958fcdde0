"""`jobmesh up`: the whole mesh on one machine, started in order and stopped in reverse.

Redis first (a private redis-server when REDIS_URL is unset), then the four
services as child processes (`python -m <module>`), each waited for until its
health Check answers SERVING. On Ctrl-C or SIGTERM the services get SIGTERM
(and SIGKILL if they overstay), and Redis stops last, so no service ever
sees its Redis vanish while it drains. A service that dies on its own stops
the whole mesh with a non-zero exit, rather than leaving a half mesh running.
Children run in their own sessions: a terminal's Ctrl-C reaches only this
supervisor, which then stops them in the right order.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Final, TextIO

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from mesh.dev_tls import DevPki, ensure_dev_pki
from mesh.redis_server import RedisProcess
from queue_system.settings import ConfigError, reader, redact_url
from service_kit.auth import credential_line, new_token
from service_kit.settings import SERVICES, ServiceSettings, ServiceSpec, load

# How often the supervisor looks at its children and their health.
POLL_S: Final = 0.2
# Beyond a service's own shutdown grace, how long it may take before SIGKILL.
KILL_MARGIN_S: Final = 10.0


# Name of the development admin token (in the audit trail) and of the dev client certificate.
DEV_TOKEN_NAME: Final = "dev-token"
DEV_CERT_NAME: Final = "dev-admin"


class MeshError(RuntimeError):
    """The mesh cannot come up or stay up; the message says which service and why."""


def _connect_host(bind_host: str) -> str:
    """Where a local client reaches a server bound to `bind_host`."""
    host = bind_host.strip("[]")
    return "127.0.0.1" if host in ("", "::", "0.0.0.0") else host


@dataclass(slots=True)
class Child:
    """One service process of the mesh."""

    spec: ServiceSpec
    proc: subprocess.Popen[bytes]
    address: str
    metrics_url: str
    channel: grpc.Channel

    def health(self) -> str:
        """The service's overall health status name, or why it could not be asked."""
        stub = health_pb2_grpc.HealthStub(self.channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=1.0)
        except grpc.RpcError as exc:
            code = exc.code() if isinstance(exc, grpc.Call) else None
            return code.name if code is not None else "UNREACHABLE"
        return str(health_pb2.HealthCheckResponse.ServingStatus.Name(reply.status))


@dataclass(frozen=True, slots=True)
class UpTls:
    """How `jobmesh up` itself reaches services that serve TLS it did not make (JOBMESH_UP_TLS_*):
    the CA that signed their certificates, a client certificate when they require one (mTLS), and
    the name their certificate carries when it is not the address up dials."""

    ca: bytes | None = None
    cert: bytes | None = None
    key: bytes | None = None
    server_name: str | None = None


def up_tls(env: Mapping[str, str]) -> UpTls:
    """JOBMESH_UP_TLS_CA_FILE, _CERT_FILE and _KEY_FILE (the last two together), _SERVER_NAME;
    ConfigError naming the variable of a file that cannot be read."""
    get = reader(env)

    def read(variable: str) -> bytes | None:
        path = get(variable)
        if path is None:
            return None
        try:
            return Path(path).expanduser().read_bytes()
        except OSError:
            raise ConfigError(variable, "a readable file", path) from None

    cert, key = read("JOBMESH_UP_TLS_CERT_FILE"), read("JOBMESH_UP_TLS_KEY_FILE")
    if (cert is None) != (key is None):
        missing = "JOBMESH_UP_TLS_KEY_FILE" if key is None else "JOBMESH_UP_TLS_CERT_FILE"
        raise ConfigError(missing, "set with its pair (a client certificate and its key)", "")
    return UpTls(read("JOBMESH_UP_TLS_CA_FILE"), cert, key, get("JOBMESH_UP_TLS_SERVER_NAME"))


class Mesh:
    """Redis plus the four services, with the order of starting and stopping built in."""

    def __init__(self, settings: ServiceSettings, env: Mapping[str, str], out: TextIO, err: TextIO) -> None:
        self.settings = settings
        self.env = dict(env)
        self.out = out
        self.err = err
        self.redis: RedisProcess | None = None
        self.children: list[Child] = []
        self.stop_requested = threading.Event()
        self.pki: DevPki | None = None
        self.mtls = False
        self.tls = up_tls(self.env)
        self.credentials: grpc.ChannelCredentials | None = None

    def use_dev_tls(self, directory: Path, mtls: bool) -> None:
        """TLS from a development PKI in `directory`, and a bearer token required: an admin token
        kept in `directory` (made once), unless JOBMESH_AUTH_TOKENS_FILE names credentials already."""
        self.pki = pki = ensure_dev_pki(directory)
        self.mtls = mtls
        self.env["JOBMESH_TLS_CERT_FILE"] = str(pki.server_cert)
        self.env["JOBMESH_TLS_KEY_FILE"] = str(pki.server_key)
        if mtls:
            self.env["JOBMESH_TLS_CLIENT_CA_FILE"] = str(pki.ca)
        token_file, credentials = directory / "admin.token", directory / "credentials"
        if not token_file.is_file() or not credentials.is_file():
            token = new_token()
            token_file.write_text(token + "\n")
            os.chmod(token_file, 0o600)
            credentials.write_text(
                "# made by jobmesh up --dev-tls: name roles credential\n"
                f"{credential_line(DEV_TOKEN_NAME, ['admin'], token)}\n"
                f"{DEV_CERT_NAME} admin mtls\n"
            )
        self.env.setdefault("JOBMESH_AUTH_TOKENS_FILE", str(credentials))

    def grpcurl_help(self, address: str) -> list[str]:
        """How grpcurl reaches the development mesh (the token is read from its file, never printed)."""
        assert self.pki is not None
        token = self.pki.directory / "admin.token"
        cert = f" -cert {self.pki.client_cert} -key {self.pki.client_key}" if self.mtls else ""
        host, _, port = address.rpartition(":")
        target = f"localhost:{port}" if host in ("127.0.0.1", "localhost") else address
        return [
            f"grpcurl -cacert {self.pki.ca}{cert} -H \"authorization: Bearer $(cat {token})\" {target} list",
            f"grpcurl -cacert {self.pki.ca}{cert} -H \"authorization: Bearer $(cat {token})\" "
            f"{target} jobmesh.trading.v1.TradingService/GetSystemStatus",
        ]

    def say(self, line: str) -> None:
        print(f"jobmesh: {line}", file=self.out, flush=True)

    def complain(self, line: str) -> None:
        print(f"jobmesh: {line}", file=self.err, flush=True)

    def start_redis(self) -> None:
        """Use REDIS_URL when set; otherwise start a private redis-server on a free port."""
        if self.env.get("REDIS_URL"):
            self.say(f"Redis {redact_url(self.env['REDIS_URL'])} (from REDIS_URL)")
            return
        self.redis = RedisProcess()
        try:
            self.redis.start()
        except (OSError, RuntimeError) as exc:
            raise MeshError(f"cannot start a private redis-server: {exc}") from exc
        self.env["REDIS_URL"] = self.redis.url
        self.say(f"Redis {self.redis.url} (private redis-server, stops with the mesh)")

    def channel_credentials(self) -> grpc.ChannelCredentials | None:
        """How the supervisor's health checks reach TLS services. With --dev-tls: trusting the
        development CA, with its client certificate under --mtls. With TLS of the operator's own:
        trusting JOBMESH_UP_TLS_CA_FILE (else JOBMESH_TLS_CLIENT_CA_FILE, else the system's roots),
        presenting JOBMESH_UP_TLS_CERT_FILE/_KEY_FILE; where the services require client
        certificates and none is given, a ConfigError now rather than health checks that can only
        time out."""
        if not self.env.get("JOBMESH_TLS_CERT_FILE"):
            return None
        if self.pki is not None:
            dev_ca = self.pki.ca.read_bytes()
            if self.mtls:
                return grpc.ssl_channel_credentials(
                    dev_ca, self.pki.client_key.read_bytes(), self.pki.client_cert.read_bytes()
                )
            return grpc.ssl_channel_credentials(dev_ca)
        own = self.tls
        client_ca = self.env.get("JOBMESH_TLS_CLIENT_CA_FILE")
        if client_ca and own.cert is None:
            raise ConfigError(
                "JOBMESH_UP_TLS_CERT_FILE",
                "a client certificate (with JOBMESH_UP_TLS_KEY_FILE) that JOBMESH_TLS_CLIENT_CA_FILE "
                "accepts: the services require one, and jobmesh up checks their health",
                "",
            )
        root = own.ca if own.ca is not None else (Path(client_ca).read_bytes() if client_ca else None)
        return grpc.ssl_channel_credentials(root, own.key, own.cert)

    def start_services(self) -> None:
        host = _connect_host(self.settings.bind_host)
        credentials = self.credentials
        # A certificate made for another name than the address dialled (JOBMESH_UP_TLS_SERVER_NAME).
        options = [("grpc.ssl_target_name_override", self.tls.server_name)] if self.tls.server_name else []
        self.say("starting " + ", ".join(s.name for s in SERVICES))
        for spec in SERVICES:
            proc = subprocess.Popen(
                [sys.executable, "-m", spec.module], env=self.env, start_new_session=True
            )
            address = f"{host}:{self.settings.grpc_ports[spec.module]}"
            metrics_url = f"http://{host}:{self.settings.metrics_ports[spec.module]}/metrics"
            channel = (
                grpc.secure_channel(address, credentials, options=options) if credentials is not None
                else grpc.insecure_channel(address)
            )
            self.children.append(Child(spec, proc, address, metrics_url, channel))

    def dead_child(self) -> Child | None:
        return next((c for c in self.children if c.proc.poll() is not None), None)

    def wait_serving(self, timeout_s: float) -> None:
        """Return once every service reports SERVING; raise MeshError on death or timeout."""
        deadline = time.monotonic() + timeout_s
        waiting = list(self.children)
        last: dict[str, str] = {}
        while waiting:
            if self.stop_requested.is_set():
                return
            dead = self.dead_child()
            if dead is not None:
                raise MeshError(f"{dead.spec.name} exited with code {dead.proc.returncode} while starting")
            for child in list(waiting):
                last[child.spec.name] = status = child.health()
                if status == "SERVING":
                    waiting.remove(child)
            if waiting and time.monotonic() > deadline:
                late = ", ".join(f"{c.spec.name} ({last.get(c.spec.name, 'no answer')})" for c in waiting)
                raise MeshError(
                    f"not SERVING within {timeout_s:g}s: {late}; "
                    f"does Redis at {redact_url(self.env['REDIS_URL'])} answer?"
                )
            if waiting:
                time.sleep(POLL_S)

    def report(self) -> None:
        width = max(len(c.spec.name) for c in self.children)
        for c in self.children:
            self.say(f"{c.spec.name:<{width}}  grpc {c.address}  metrics {c.metrics_url}  (pid {c.proc.pid})")
        if self.pki is not None:
            self.say(f"TLS with the development CA {self.pki.ca}; grpcurl, e.g.:")
            for line in self.grpcurl_help(self.children[0].address):
                self.say(f"  {line}")
        self.say(f"all {len(self.children)} services SERVING; Ctrl-C stops the mesh")

    def watch(self) -> None:
        """Block until a stop is requested; raise MeshError when a service dies meanwhile."""
        while not self.stop_requested.wait(POLL_S):
            dead = self.dead_child()
            if dead is not None:
                raise MeshError(f"{dead.spec.name} exited unexpectedly with code {dead.proc.returncode}")

    def stop(self) -> bool:
        """SIGTERM every service, SIGKILL stragglers, then stop Redis. True when all exited cleanly."""
        clean = True
        for child in self.children:
            if child.proc.poll() is None:
                child.proc.send_signal(signal.SIGTERM)
        limit = self.settings.runtime.tuning.shutdown_grace_ms / 1000 + KILL_MARGIN_S
        for child in self.children:
            try:
                code = child.proc.wait(limit)
            except subprocess.TimeoutExpired:
                self.complain(f"{child.spec.name} did not stop within {limit:g}s: killing it")
                child.proc.kill()
                code = child.proc.wait()
            child.channel.close()
            clean = clean and code == 0
            self.say(f"{child.spec.name} stopped (exit {code})")
        if self.redis is not None:
            self.redis.close()
            self.say("Redis stopped")
        return clean


def up(
    timeout_s: float = 30.0,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
    dev_tls: Path | None = None,
    mtls: bool = False,
) -> int:
    """Run the mesh until Ctrl-C/SIGTERM. Exit code: 0 clean, 1 failure, 2 bad configuration.

    `dev_tls`: serve over TLS from a development PKI in that directory (Path() for the default,
    $JOBMESH_DATA_DIR/dev-tls), with a bearer token required; `mtls` also requires client certificates.
    """
    env = dict(os.environ)
    try:
        settings = load(env)
        mesh = Mesh(settings, env, out, err)
        if dev_tls is not None:
            directory = dev_tls if str(dev_tls) not in ("", ".") else settings.data_dir / "dev-tls"
            mesh.use_dev_tls(directory, mtls)
            settings = mesh.settings = load(mesh.env)
        mesh.credentials = mesh.channel_credentials()
    except ConfigError as exc:
        print(f"jobmesh: {exc}", file=err)
        return 2

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        if not mesh.stop_requested.is_set():
            mesh.say(f"{signal.Signals(signum).name}: stopping the mesh")
        mesh.stop_requested.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    failed = False
    try:
        mesh.start_redis()
        mesh.start_services()
        mesh.wait_serving(timeout_s)
        if not mesh.stop_requested.is_set():
            mesh.report()
            mesh.watch()
    except MeshError as exc:
        mesh.complain(f"{exc}; stopping the mesh")
        failed = True
    finally:
        clean = mesh.stop()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if failed:
        return 1
    mesh.say("stopped" if clean else "stopped, but not every service exited cleanly")
    return 0 if clean else 1
