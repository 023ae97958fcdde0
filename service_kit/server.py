"""The one way a jobmesh service runs: an aio gRPC server with health, reflection and metrics.

Each service package only says which servicers it serves (`build`); this
module gives all four the same behaviour: configuration checked before
anything starts (a bad variable is one line on stderr and exit code 2),
`grpc.health.v1` that follows Redis, server reflection so grpcurl needs no
.proto files, AuditService (the shared audit trail, read back: service_kit.audit_servicer),
rich error statuses, gRPC metrics plus Prometheus over HTTP on
the service's metrics port (each method's handler wrapped once in what the
kit's interceptors do, not once per call), and a graceful stop on SIGTERM/SIGINT: health
goes NOT_SERVING, the server stops accepting, in-flight calls get a grace
period, then the service's shutdown hooks run (workers drain there).
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import sys
import threading
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any, Final
from wsgiref.simple_server import WSGIServer

import grpc
import redis.asyncio as aioredis
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection, reflection_pb2_grpc
from prometheus_client import disable_created_metrics, start_http_server

from jobmesh.auth.v1 import audit_service_pb2, audit_service_pb2_grpc
from queue_system import failpoints
from queue_system.caller_rate import CallerRate
from queue_system.connection import connect
from queue_system.settings import ConfigError
from service_kit.audit_servicer import AuditServicer
from service_kit.auth import (
    AuditLog,
    AuthInterceptor,
    CallerLimits,
    SharedCallerLimits,
    required_roles,
    side_effect_free,
)
from service_kit.gc_tuning import settle_gc
from service_kit.handlers import HandlerCollector, Wrap, WrappedOnce
from service_kit.health import RedisHealth
from service_kit.rich_errors import with_errors
from service_kit.rpc_metrics import with_metrics
from service_kit.settings import SERVICE_BY_MODULE, Security, ServiceSettings, ServiceSpec, is_loopback, load

log = logging.getLogger(__name__)

# The audit trail's own Redis connections (writing it, AuditService reading it, and counting the
# per-caller limit): a count and a write per state-changing call, each awaited before the call
# answers, so as many as calls in flight are worth having.
AUDIT_CONNECTIONS: Final = 32

# In-flight RPCs get at most this long once shutdown starts; watch streams never end
# on their own, so the grace is short and bounded by JOBMESH_SHUTDOWN_GRACE_MS.
RPC_GRACE_S_MAX: Final = 5.0

Hook = Callable[[], Awaitable[None]]


@dataclass(frozen=True, slots=True)
class ServedService:
    """One gRPC service a process serves: its full name and how to add its servicer to a server."""

    name: str
    add_to_server: Callable[[grpc.aio.Server], None]


def served(pb2: ModuleType, service: str, add: Callable[[Any, Any], None], servicer: object) -> ServedService:
    """ServedService for `servicer` of `service` in the generated module `pb2`.

    e.g. served(trading_service_pb2, "TradingService", add_TradingServiceServicer_to_server, servicer)
    """
    full_name: str = pb2.DESCRIPTOR.services_by_name[service].full_name
    return ServedService(full_name, lambda server: add(servicer, server))


@dataclass(slots=True)
class ServiceContext:
    """What a service's `build` gets: its settings and where to hook start-up and shutdown work."""

    spec: ServiceSpec
    settings: ServiceSettings
    startup_hooks: list[Hook] = field(default_factory=list)
    stopping_hooks: list[Hook] = field(default_factory=list)
    shutdown_hooks: list[Hook] = field(default_factory=list)

    def on_startup(self, hook: Hook) -> None:
        """Run `hook` once the server listens (Redis may still be down then)."""
        self.startup_hooks.append(hook)

    def run_in_background(self, make: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run a coroutine for the service's life: started with it, cancelled when it stops."""
        tasks: list[asyncio.Task[None]] = []

        async def start() -> None:
            tasks.append(asyncio.get_running_loop().create_task(make()))

        async def stop() -> None:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        self.on_startup(start)
        self.on_stopping(stop)

    def on_stopping(self, hook: Hook) -> None:
        """Run `hook` as soon as shutdown begins, beside the server's RPC grace period
        (workers stop taking jobs at once and let running ones finish meanwhile)."""
        self.stopping_hooks.append(hook)

    def on_shutdown(self, hook: Hook) -> None:
        """Run `hook` after the server stopped serving; hooks run in reverse order of registration."""
        self.shutdown_hooks.append(hook)


Build = Callable[[ServiceContext], Sequence[ServedService]]


class StartError(RuntimeError):
    """The service cannot start (e.g. its port is taken); the message says why in one line."""


def _metrics_host(bind_host: str) -> str:
    return bind_host.strip("[]") or "0.0.0.0"


class Service:
    """One running service: start() it, stop() it; `grpc_port`/`metrics_port` are the bound ports."""

    def __init__(self, spec: ServiceSpec, settings: ServiceSettings, build: Build) -> None:
        self.spec = spec
        self.settings = settings
        self.build = build
        self.context = ServiceContext(spec, settings)
        self.served: list[ServedService] = []
        self.grpc_port = 0
        self.metrics_port = 0
        self._health: RedisHealth | None = None
        self._server: grpc.aio.Server | None = None
        self._metrics_http: tuple[WSGIServer, threading.Thread] | None = None
        self._audit: AuditLog | None = None
        self._audit_client: aioredis.Redis | None = None
        self._stopped = False

    @property
    def service_names(self) -> list[str]:
        """Every service name on the wire, health and reflection included."""
        return [
            *(s.name for s in self.served),
            health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
            reflection.SERVICE_NAME,
        ]

    async def start(self) -> None:
        """Build the servicers, listen, and run the start-up hooks (inside the running loop)."""
        redis = self.settings.runtime
        # The kit's own services beside the service's: the audit trail is one stream all write.
        self._audit_client = connect(redis.redis_url, max_connections=AUDIT_CONNECTIONS)
        self.served = [*self.build(self.context), self._audit_service(self._audit_client)]
        self._health = RedisHealth(redis.redis_url, redis.redis_url_redacted, [s.name for s in self.served])
        self._server = server = grpc.aio.server(
            # Without this, grpc lets a second process bind the same port (SO_REUSEPORT).
            options=[("grpc.so_reuseport", 0)],
        )
        # Every method's handler is wrapped once, as the interceptors would wrap it on every call
        # (metrics outermost, then auth, then rich errors: see each module for why that order).
        registered = HandlerCollector()
        served_on: Any = registered  # registration only calls add_generic_rpc_handlers (and drops the rest)
        for svc in self.served:
            svc.add_to_server(served_on)
        health_pb2_grpc.add_HealthServicer_to_server(self._health.servicer, served_on)
        # (enable_server_reflection would pick the sync servicer: the collector is no aio server)
        reflection_pb2_grpc.add_ServerReflectionServicer_to_server(
            reflection.aio.ReflectionServicer(self.service_names), served_on  # type: ignore[attr-defined]
        )
        server.add_generic_rpc_handlers((WrappedOnce(registered.handlers, self._edge()),))
        await self._health.start()

        host = self.settings.bind_host
        wanted = self.settings.grpc_ports[self.spec.module]
        security = self.settings.security
        try:
            if security.tls is not None:
                self.grpc_port = server.add_secure_port(f"{host}:{wanted}", server_credentials(security))
            else:
                self.grpc_port = server.add_insecure_port(f"{host}:{wanted}")
        except RuntimeError as exc:
            raise StartError(f"cannot listen for gRPC on {host}:{wanted} (port in use?)") from exc
        self._warn_if_exposed()
        self._start_metrics_http()
        await server.start()
        log.info(
            "%s serving %s on %s:%d; metrics on http://%s:%d/metrics; Redis %s",
            self.spec.name, ", ".join(s.name for s in self.served), host, self.grpc_port,
            host, self.metrics_port, self.settings.runtime.redis_url_redacted,
        )
        for hook in self.context.startup_hooks:
            await hook()

    def _audit_service(self, client: aioredis.Redis) -> ServedService:
        """AuditService (service_kit.audit_servicer), served by every service: the trail is shared."""
        servicer = AuditServicer(client, self.settings.runtime.queue_prefix)
        add = audit_service_pb2_grpc.add_AuditServiceServicer_to_server
        return served(audit_service_pb2, "AuditService", add, servicer)

    def _edge(self) -> Wrap:
        """What every method's handler is wrapped in: metrics, auth (when credentials are
        configured; none without, loopback only) and rich errors, outermost first."""
        auth = self._auth()

        def wrap(handler: grpc.RpcMethodHandler[Any, Any], method: str) -> grpc.RpcMethodHandler[Any, Any]:
            handler = with_errors(handler, method)
            if auth is not None:
                handler = auth.wrap(handler, method)
            return with_metrics(handler, method)

        return wrap

    def _auth(self) -> AuthInterceptor | None:
        """The auth interceptor when credentials are configured; None without (loopback only)."""
        security = self.settings.security
        if not security.authenticating:
            return None
        runtime = self.settings.runtime
        assert self._audit_client is not None  # made in start(), before the edge
        self._audit = AuditLog(self._audit_client, runtime.queue_prefix, self.spec.name)
        count, period_ms = security.rate_count, security.rate_period_ms
        names = [s.name for s in self.served]
        return AuthInterceptor(
            security.credentials,
            required_roles(names),
            SharedCallerLimits(
                CallerRate(self._audit_client, runtime.queue_prefix, count, period_ms),
                CallerLimits(count, period_ms / 1000),
            ),
            self._audit,
            side_effect_free(names),
        )

    def _warn_if_exposed(self) -> None:
        """Say loudly what an operator opted into: no authentication, or tokens in plaintext."""
        security = self.settings.security
        host = self.settings.bind_host
        if not security.authenticating and security.allow_unauthenticated:
            log.warning(
                "%s listens on %s WITHOUT AUTHENTICATION (JOBMESH_ALLOW_UNAUTHENTICATED): anyone who "
                "reaches the port may drain queues and stop strategies", self.spec.name, host,
            )
        elif security.authenticating and security.tls is None and not is_loopback(host):
            log.warning(
                "%s takes bearer tokens on %s WITHOUT TLS: tokens cross the network in plaintext; "
                "set JOBMESH_TLS_CERT_FILE and JOBMESH_TLS_KEY_FILE", self.spec.name, host,
            )

    def _start_metrics_http(self) -> None:
        wanted = self.settings.metrics_ports[self.spec.module]
        host = _metrics_host(self.settings.bind_host)
        hosts = [host, "0.0.0.0"] if host == "::" else [host]  # machines without IPv6
        error: OSError | None = None
        for candidate in hosts:
            try:
                self._metrics_http = start_http_server(wanted, addr=candidate)
            except OSError as exc:
                error = exc
                continue
            self.metrics_port = int(self._metrics_http[0].server_port)
            return
        reason = error.strerror if error is not None and error.strerror else error
        raise StartError(f"cannot serve metrics on {host}:{wanted} ({reason})")

    async def stop(self) -> None:
        """NOT_SERVING, stop accepting, let calls finish within the grace, then run shutdown hooks."""
        if self._stopped:
            return
        self._stopped = True
        if self._health is not None:
            await self._health.shutdown()
        grace = min(self.settings.runtime.tuning.shutdown_grace_ms / 1000, RPC_GRACE_S_MAX)
        stopping = [self._server.stop(grace)] if self._server is not None else []
        results = await asyncio.gather(
            *stopping, *(hook() for hook in self.context.stopping_hooks), return_exceptions=True
        )
        for result in results:
            if isinstance(result, BaseException):
                log.error("%s: stopping failed: %r", self.spec.name, result)
        for hook in reversed(self.context.shutdown_hooks):
            try:
                await hook()
            except Exception:
                log.exception("%s: a shutdown hook failed", self.spec.name)
        if self._audit is not None:
            await self._audit.flush()
        if self._audit_client is not None:
            await self._audit_client.aclose()
        if self._metrics_http is not None:
            http, thread = self._metrics_http
            http.shutdown()
            http.server_close()
            thread.join(5)
        log.info("%s stopped", self.spec.name)


def server_credentials(security: Security) -> grpc.ServerCredentials:
    """TLS with the service's certificate; with a client CA, mTLS: every client must present a
    certificate of that CA (gRPC either requires client certificates or does not ask for them),
    and its common name may then stand for a token (`<name> <roles> mtls` entries)."""
    tls = security.tls
    assert tls is not None
    client_ca = tls.client_ca.read_bytes() if tls.client_ca is not None else None
    return grpc.ssl_server_credentials(
        [(tls.key.read_bytes(), tls.cert.read_bytes())],
        root_certificates=client_ca,
        require_client_auth=client_ca is not None,
    )


async def serve_until_signalled(service: Service) -> None:
    """Run `service` until SIGTERM or SIGINT, then stop it gracefully; a second signal exits at once."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()

    def on_signal(sig: signal.Signals) -> None:
        if stop.is_set():
            log.warning("%s again: exiting without waiting", sig.name)
            os._exit(1)
        log.info("%s: shutting down", sig.name)
        stop.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)
    try:
        await service.start()
        settle_gc()  # no full-collection pauses while serving (see service_kit.gc_tuning)
        await stop.wait()
    finally:
        await service.stop()


def configure_logging(level: str, service: str) -> None:
    """Log lines name their service: `jobmesh up` interleaves four services on one terminal."""
    logging.basicConfig(
        level=level, stream=sys.stderr,
        format=f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s",
    )


def _run(main: Coroutine[Any, Any, None]) -> None:
    """Run on uvloop when it is installed (faster), else on asyncio's own loop."""
    try:
        import uvloop  # noqa: PLC0415 (optional: absent on Windows)
    except ImportError:
        asyncio.run(main)
        return
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        runner.run(main)


def run_service(module: str, build: Build) -> None:
    """Entry point of `python -m <module>`: load settings, serve until signalled, exit."""
    spec = SERVICE_BY_MODULE[module]
    try:
        settings = load()
        failpoints.configured()
    except ConfigError as exc:
        print(f"{spec.name}: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    configure_logging(settings.log_level, spec.name)
    disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series: nothing reads them
    try:
        _run(serve_until_signalled(Service(spec, settings, build)))
    except StartError as exc:
        print(f"{spec.name}: {exc}", file=sys.stderr)
        raise SystemExit(1) from None
