"""Who may do what: authentication, roles, per-caller limits and the audit trail of every RPC.

One server interceptor (`AuthInterceptor`) does all four, in this order, before
a servicer runs:

1. **Authenticate.** A bearer token (`authorization: Bearer <token>` metadata)
   is looked up by its SHA-256 among the configured entries; without a token, a
   client certificate that the TLS handshake verified against the client CA
   (mTLS) names the caller by its subject's common name. A missing, unknown or
   malformed credential is UNAUTHENTICATED with one and the same message, so
   nobody learns which tokens or names exist.
2. **Authorize.** The role an RPC needs is data in the contract: the method
   option `(jobmesh.auth.v1.required_role)` on every rpc, read here from the
   descriptors. A caller without it is PERMISSION_DENIED naming the role. An
   RPC without the option is refused to all but admins (fail closed), and a test
   enumerates every method so one never ships without it. Reflection needs only
   a known caller; `grpc.health.v1.Health` needs nothing (probes and load
   balancers carry no tokens, and health tells nothing secret).
3. **Limit.** Calls of state-changing RPCs (any role above viewer) are counted
   per caller in a token bucket kept in Redis, so all the mesh's processes
   count together (`SharedCallerLimits`); one over the limit is
   RESOURCE_EXHAUSTED with RetryInfo saying when to call again.
4. **Audit.** Every call of a state-changing RPC, refusals included, is written
   with who, what, when, its request id and its outcome to the capped audit
   stream (`keys.audit_stream`) and as `rpc_audited` on `system:events`, before
   the caller gets its answer (a failure too: rich_errors awaits the audit,
   through BEFORE_ERROR_ANSWER, before it sends the error status). Every
   state-changing RPC of the contract is unary; a streaming one would be
   authorized and limited, but not audited. Admins read the trail back with
   AuditService.ListAuditEntries (served by every service:
   service_kit.audit_servicer); it needs ROLE_ADMIN, more than a viewer, so
   reading the trail is audited too, but not limited: it is NO_SIDE_EFFECTS
   in the contract (`side_effect_free`).

Why SHA-256 and not a password KDF (argon2, scrypt) for tokens: the tokens are
256-bit random strings this module makes (`new_token`), so a stolen hash file
cannot be brute-forced whatever the hash; a deliberately slow KDF protects
low-entropy passwords, and here would only add its cost to every RPC.

The interceptor sits between the metrics interceptor (outermost, so refused
calls count under their real code) and the error interceptor (which translates
what servicers raise), so the outcome it audits is the code the caller gets.
Token values are never logged, stored, or put in any error, event or metric:
only the token's name is.
"""

from __future__ import annotations

import asyncio
import contextvars
import hashlib
import logging
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Final

import grpc
import redis.asyncio as aioredis
from google.protobuf import descriptor_pb2, descriptor_pool, json_format
from google.protobuf.message import Message
from redis.exceptions import RedisError

from jobmesh.auth.v1 import auth_pb2
from jobmesh.events.v1 import system_events_pb2
from queue_system.caller_rate import CallerRate
from queue_system.catalog import SYSTEM_EVENTS_CHANNEL
from queue_system.errors import (
    JobmeshError,
    PermissionDeniedError,
    RateLimitedError,
    UnauthenticatedError,
)
from queue_system.events import event_json
from queue_system.keys import AUDIT_MAXLEN, AuditField, audit_stream
from queue_system.settings import ConfigError
from service_kit.handlers import Context, wrap_handler
from service_kit.rich_errors import BEFORE_ERROR_ANSWER, to_grpc_status
from service_kit.rpc_metrics import final_code

log = logging.getLogger(__name__)

# Role names as operators write them in the credentials file and read them in errors.
ROLE_NAMES: Final[Mapping[int, str]] = {
    auth_pb2.ROLE_VIEWER: "viewer",
    auth_pb2.ROLE_OPERATOR: "operator",
    auth_pb2.ROLE_TRADER: "trader",
    auth_pb2.ROLE_ADMIN: "admin",
}
ROLE_BY_NAME: Final[Mapping[str, int]] = {name: role for role, name in ROLE_NAMES.items()}

HEALTH_PREFIX: Final = "/grpc.health.v1.Health/"
TOKEN_PREFIX: Final = "jm_"
# What a credential entry's third column says for a caller known by its client certificate.
MTLS_CREDENTIAL: Final = "mtls"
SHA256_PREFIX: Final = "sha256:"
# The one answer to every caller that is not known, whatever was wrong with its credential.
UNAUTHENTICATED_MESSAGE: Final = (
    "missing or invalid credentials: send `authorization: Bearer <token>` or a client certificate"
)
# A request is recorded in the audit as JSON up to this many characters (and not at all when
# its encoding is larger than REQUEST_BYTES_MAX: a 10,000-job batch is named, not printed).
REQUEST_CHARS_MAX: Final = 1000
REQUEST_BYTES_MAX: Final = 16 * 1024


# The caller of the RPC being served (its audit name), for servicers that record who acted in
# their own records (TradingService puts it in a strategy's history). None without auth.
_CALLER: Final[contextvars.ContextVar[str | None]] = contextvars.ContextVar("jobmesh_caller", default=None)


def current_caller() -> str | None:
    """The authenticated caller of the RPC being served, or None when the service runs without auth."""
    return _CALLER.get()


def new_token() -> str:
    """A fresh bearer token: 256 random bits, URL-safe, with a prefix that says what it is
    (secret scanners and people recognize `jm_...`)."""
    return TOKEN_PREFIX + secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The hex SHA-256 a credential entry stores for `token` (see the module docstring for why
    a plain hash suffices)."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class Caller:
    """An authenticated caller: the name the audit records and the roles it holds."""

    name: str
    roles: frozenset[int]

    def may(self, needed: int) -> bool:
        """Admins may do everything; any role may read; otherwise the role itself is needed.
        `needed` == ROLE_UNSPECIFIED (an RPC without a role) is for admins only."""
        if auth_pb2.ROLE_ADMIN in self.roles:
            return True
        if needed == auth_pb2.ROLE_VIEWER:
            return bool(self.roles)
        return needed != auth_pb2.ROLE_UNSPECIFIED and needed in self.roles


@dataclass(frozen=True, slots=True)
class Credentials:
    """Who is known: token hashes and certificate common names, each with a caller."""

    tokens: Mapping[str, Caller]  # hex SHA-256 of the token -> caller
    certificates: Mapping[str, Caller]  # client certificate subject CN -> caller

    def __bool__(self) -> bool:
        return bool(self.tokens or self.certificates)

    def by_token(self, token: str) -> Caller | None:
        """The caller `token` belongs to. Looked up by its hash: what a timing difference could
        reveal is how a hash of the guess compares, which tells nothing about real tokens."""
        return self.tokens.get(hash_token(token))


def parse_credentials(text: str, variable: str) -> Credentials:
    """Credential entries, one a line (`;` also ends an entry, for an environment variable):

        # name     roles              credential
        alice      viewer,operator    sha256:<hex SHA-256 of alice's token>
        deployer   trader             sha256:<...>
        worker-1   operator           mtls      (a client certificate whose CN is worker-1)

    Blank lines and `#` comments are skipped. A bad entry raises ConfigError naming
    `variable` and the entry's number, never its content (it may hold a hash).
    """
    tokens: dict[str, Caller] = {}
    certificates: dict[str, Caller] = {}
    names: set[str] = set()
    expected = (
        "entries `<name> <role>[,<role>...] sha256:<64 hex>|mtls` with roles viewer, operator, trader, admin"
    )
    entries = [line.split("#", 1)[0].strip() for chunk in text.splitlines() for line in chunk.split(";")]
    for number, entry in enumerate((e for e in entries if e), start=1):
        parts = entry.split()
        if len(parts) != 3:
            raise ConfigError(variable, expected, f"entry {number}")
        name, roles_text, credential = parts
        roles = [r.strip().lower() for r in roles_text.split(",") if r.strip()]
        if not roles or any(r not in ROLE_BY_NAME for r in roles) or name in names:
            raise ConfigError(variable, expected + " and unique names", f"entry {number} ({name})")
        names.add(name)
        caller_roles = frozenset(ROLE_BY_NAME[r] for r in roles)
        if credential.lower() == MTLS_CREDENTIAL:
            certificates[name] = Caller(f"cert:{name}", caller_roles)
            continue
        digest = credential[len(SHA256_PREFIX):].lower() if credential.startswith(SHA256_PREFIX) else ""
        if len(digest) != 64 or any(c not in "0123456789abcdef" for c in digest) or digest in tokens:
            raise ConfigError(variable, expected, f"entry {number} ({name})")
        tokens[digest] = Caller(name, caller_roles)
    return Credentials(tokens, certificates)


def credential_line(name: str, roles: Iterable[str], token: str) -> str:
    """The credentials-file entry for `token` (what `jobmesh token` prints)."""
    return f"{name} {','.join(roles)} {SHA256_PREFIX}{hash_token(token)}"


def _method_options(services: Iterable[str]) -> Iterator[tuple[str, Any]]:
    """(full method name, its MethodOptions) for every method of `services` the descriptor pool
    knows (health and reflection are not jobmesh's and are left out)."""
    pool = descriptor_pool.Default()
    for name in services:
        try:
            service = pool.FindServiceByName(name)
        except KeyError:
            continue
        for method in service.methods:
            yield f"/{service.full_name}/{method.name}", method.GetOptions()


def required_roles(services: Iterable[str]) -> dict[str, int]:
    """Full method name -> the role its `(jobmesh.auth.v1.required_role)` option names
    (ROLE_UNSPECIFIED when it has none), for every method of `services`."""
    return {
        path: int(options.Extensions[auth_pb2.required_role]) for path, options in _method_options(services)
    }


def side_effect_free(services: Iterable[str]) -> frozenset[str]:
    """Full method names of `services` whose `idempotency_level` is NO_SIDE_EFFECTS: reads, even
    where their role is above viewer (ListAuditEntries), which the per-caller limit on
    state-changing calls leaves alone."""
    return frozenset(
        path
        for path, options in _method_options(services)
        if options.idempotency_level == descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS
    )


class CallerLimits:
    """A token bucket per caller: `count` calls at once, refilled at `count` per `per_s` seconds.

    Per process: what `SharedCallerLimits` falls back to while Redis does not answer. Callers
    are only ever authenticated ones, so the buckets are bounded by the configured credentials.
    """

    def __init__(self, count: int, per_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.count = count
        self.per_s = per_s
        self._rate = count / per_s
        self._clock = clock
        self._buckets: dict[str, tuple[float, float]] = {}  # caller -> (tokens, when)

    def take(self, caller: str) -> float:
        """0.0 when `caller` may call now (and counts the call), else seconds until it may."""
        now = self._clock()
        tokens, then = self._buckets.get(caller, (float(self.count), now))
        tokens = min(float(self.count), tokens + (now - then) * self._rate)
        if tokens >= 1.0:
            self._buckets[caller] = (tokens - 1.0, now)
            return 0.0
        self._buckets[caller] = (tokens, now)
        return (1.0 - tokens) / self._rate


class SharedCallerLimits:
    """The per-caller limit counted in Redis (queue_system.caller_rate): N processes of the
    mesh together let a caller make `count` state-changing calls per `per_s`, not N times that.

    It costs each state-changing call one more Redis round trip (the audit write is the other).
    When Redis does not answer within LIMIT_WAIT_S, the call is counted by this process's own
    bucket instead (`local`), and Redis is left alone for FALLBACK_S: refusing every call because
    the limiter cannot count would turn a Redis outage into an outage of every RPC, even of those
    that do not need Redis, while a runaway caller is still held to the limit per process.
    """

    LIMIT_WAIT_S: Final = 0.5
    FALLBACK_S: Final = 1.0

    def __init__(
        self, shared: CallerRate, local: CallerLimits, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.shared = shared
        self.local = local
        self.count = local.count
        self.per_s = local.per_s
        self._clock = clock
        self._local_until = 0.0

    async def take(self, caller: str) -> float:
        """0.0 when `caller` may call now (and counts the call), else seconds until it may."""
        if self._clock() < self._local_until:
            return self.local.take(caller)
        try:
            async with asyncio.timeout(self.LIMIT_WAIT_S):
                return await self.shared.take(caller)
        except (RedisError, TimeoutError) as exc:
            self._local_until = self._clock() + self.FALLBACK_S
            log.warning(
                "the per-caller limit is counted per process for %gs: Redis did not count the call (%s)",
                self.FALLBACK_S, type(exc).__name__,
            )
            return self.local.take(caller)


class AuditLog:
    """Writes one `RpcAudited` to the audit stream and to `system:events`, in one round trip."""

    def __init__(self, client: aioredis.Redis, prefix: str, service: str) -> None:
        self.client = client
        self.stream = audit_stream(prefix)
        self.service = service
        self._pending: set[asyncio.Task[None]] = set()

    async def record(self, entry: system_events_pb2.RpcAudited) -> None:
        fields = {
            AuditField.CALLER: entry.caller,
            AuditField.METHOD: entry.method,
            AuditField.REQUEST_ID: entry.request_id,
            AuditField.CODE: entry.code,
            AuditField.REQUEST: entry.request,
            AuditField.SERVICE: entry.service,
            AuditField.PEER: entry.peer,
            AuditField.DURATION_MS: str(entry.duration_ms),
        }
        pipe = self.client.pipeline(transaction=False)
        pipe.xadd(self.stream, fields, maxlen=AUDIT_MAXLEN, approximate=True)  # type: ignore[arg-type]
        pipe.publish(SYSTEM_EVENTS_CHANNEL, event_json(self.service, "rpc_audited", entry))
        try:
            await pipe.execute()
        except RedisError as exc:
            # The call already happened; the log keeps what the stream could not.
            log.warning(
                "audit not written (%s): %s %s by %r: %s",
                type(exc).__name__, entry.method, entry.code, entry.caller, entry.request_id,
            )

    def record_later(self, entry: system_events_pb2.RpcAudited) -> None:
        """Record from a call being cancelled, where awaiting is no longer allowed to finish."""
        task = asyncio.get_running_loop().create_task(self.record(entry))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def flush(self) -> None:
        """Wait for records still being written (at shutdown)."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)


def bearer_token(metadata: Iterable[tuple[str, str | bytes]] | None) -> str | None:
    """The token of an `authorization: Bearer <token>` header ("" for a malformed one), or
    None when the call has no authorization header at all."""
    for key, value in metadata or ():
        if key != "authorization":
            continue
        text = value.decode(errors="replace") if isinstance(value, bytes) else value
        scheme, _, token = text.strip().partition(" ")
        return token.strip() if scheme.lower() == "bearer" else ""
    return None


def _certificate_name(context: Context) -> str | None:
    """The common name of the client certificate TLS verified, if the call came with one."""
    auth = context.auth_context()
    names = list(auth.get("x509_common_name") or [])
    if not names:
        return None
    first = names[0]
    return first.decode(errors="replace") if isinstance(first, bytes) else str(first)


def _request_id(request: Any) -> str:
    if isinstance(request, Message) and "request_id" in request.DESCRIPTOR.fields_by_name:
        return str(getattr(request, "request_id", ""))
    return ""


def _request_text(request: Any) -> str:
    if not isinstance(request, Message):
        return "(request did not decode)"
    size = request.ByteSize()
    if size > REQUEST_BYTES_MAX:
        return f"({request.DESCRIPTOR.full_name} of {size} bytes, not recorded)"
    try:
        return json_format.MessageToJson(request, indent=None)[:REQUEST_CHARS_MAX]
    except (json_format.Error, ValueError) as exc:
        # A field JSON cannot carry (a Timestamp past year 9999): the call is still recorded.
        return f"({request.DESCRIPTOR.full_name} of {size} bytes, not JSON: {type(exc).__name__})"


class AuthInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Authenticates, authorizes, limits and audits every call (see the module docstring)."""

    def __init__(
        self,
        credentials: Credentials,
        roles: Mapping[str, int],
        limits: SharedCallerLimits,
        audit: AuditLog,
        reads: frozenset[str] = frozenset(),
    ) -> None:
        self.credentials = credentials
        self.roles = dict(roles)
        self.limits = limits
        self.audit = audit
        # Methods free of side effects (side_effect_free): audited by their role, never limited.
        self.reads = reads

    def authenticate(self, token: str | None, context: Context) -> Caller:
        """The caller a token names, else the one a verified client certificate names."""
        if token is not None:
            caller = self.credentials.by_token(token) if token else None
        else:
            cn = _certificate_name(context) if self.credentials.certificates else None
            caller = self.credentials.certificates.get(cn) if cn is not None else None
        if caller is None:
            raise UnauthenticatedError(UNAUTHENTICATED_MESSAGE)
        return caller

    async def authorize(self, caller: Caller, method: str, needed: int | None) -> None:
        """Nothing if `caller` may call `method` now; else the JobmeshError that refuses it."""
        if needed is None:  # reflection: any known caller
            return
        if not caller.may(needed):
            role = ROLE_NAMES.get(needed, "admin")
            raise PermissionDeniedError(f"{method} needs the {role} role", role)
        if needed != auth_pb2.ROLE_VIEWER and method not in self.reads:
            wait_s = await self.limits.take(caller.name)
            if wait_s > 0:
                raise RateLimitedError(
                    f"more than {self.limits.count} state-changing calls in {self.limits.per_s:g}s; "
                    f"call again in {wait_s:.3f}s",
                    wait_s,
                    subject=f"caller:{caller.name}",
                )

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[grpc.RpcMethodHandler[Any, Any]]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any]:
        handler = await continuation(handler_call_details)
        if handler is None:
            return handler
        return self.wrap(handler, handler_call_details.method)

    def wrap(self, handler: grpc.RpcMethodHandler[Any, Any], method: str) -> grpc.RpcMethodHandler[Any, Any]:
        """`handler` admitting only callers allowed to call `method` (the credential is read from
        each call's own metadata)."""
        if method.startswith(HEALTH_PREFIX):
            return handler
        needed = self.roles.get(method)
        h: Any = handler
        if needed is not None and needed != auth_pb2.ROLE_VIEWER and h.unary_unary is not None:
            return self._audited(handler, method, needed)

        async def unary(call: Callable[[], Awaitable[Any]], context: Context) -> Any:
            try:
                caller = self.authenticate(bearer_token(context.invocation_metadata()), context)
                await self.authorize(caller, method, needed)
            except JobmeshError as exc:
                await _refuse(context, exc, method)
            acting = _CALLER.set(caller.name)
            try:
                return await call()
            finally:
                _CALLER.reset(acting)

        async def stream(call: Callable[[], Any], context: Context) -> Any:
            try:
                caller = self.authenticate(bearer_token(context.invocation_metadata()), context)
                await self.authorize(caller, method, needed)
            except JobmeshError as exc:
                await _refuse(context, exc, method)
            acting = _CALLER.set(caller.name)
            try:
                async for item in call():
                    yield item
            finally:
                _CALLER.reset(acting)

        return wrap_handler(handler, unary, stream)

    def _audited(
        self, handler: grpc.RpcMethodHandler[Any, Any], method: str, needed: int
    ) -> grpc.RpcMethodHandler[Any, Any]:
        """A unary state-changing method: admitted, then audited with its request and outcome."""
        inner: Any = handler.unary_unary

        def entry(caller: Caller | None, request: Any, code: str, context: Context, start: float) -> Any:
            return system_events_pb2.RpcAudited(
                caller=caller.name if caller is not None else "",
                method=method,
                request_id=_request_id(request),
                code=code,
                request=_request_text(request),
                service=self.audit.service,
                peer=context.peer(),
                duration_ms=int((time.perf_counter() - start) * 1000),
            )

        async def run(request: Any, context: Context) -> Any:
            start = time.perf_counter()
            caller: Caller | None = None
            try:
                caller = self.authenticate(bearer_token(context.invocation_metadata()), context)
                await self.authorize(caller, method, needed)
            except JobmeshError as exc:
                status = to_grpc_status(exc, method)
                await self.audit.record(entry(caller, request, status.code.name, context, start))
                await context.abort(status.code, status.details, status.trailing_metadata)
            acting = _CALLER.set(caller.name if caller is not None else None)
            recorded = False

            async def before_error_answer(code: grpc.StatusCode) -> None:
                nonlocal recorded
                recorded = True
                await self.audit.record(entry(caller, request, code.name, context, start))

            # rich_errors awaits this before it sends an error status: the failure is recorded first
            hooked = BEFORE_ERROR_ANSWER.set(before_error_answer)
            try:
                result = inner(request, context)
                response = await result if asyncio.iscoroutine(result) else result
            except Exception as exc:  # a failure rich_errors did not answer (a servicer's own abort)
                if not recorded:
                    await self.audit.record(entry(caller, request, final_code(context, exc), context, start))
                raise
            except BaseException as exc:  # cancelled: awaiting may no longer finish
                if not recorded:
                    self.audit.record_later(entry(caller, request, final_code(context, exc), context, start))
                raise
            finally:
                BEFORE_ERROR_ANSWER.reset(hooked)
                _CALLER.reset(acting)
            await self.audit.record(entry(caller, request, final_code(context, None), context, start))
            return response

        return grpc.unary_unary_rpc_method_handler(
            run, handler.request_deserializer, handler.response_serializer
        )


async def _refuse(context: Context, exc: JobmeshError, method: str) -> None:
    """End the call with the rich status of `exc` (raises grpc.aio.AbortError)."""
    status = to_grpc_status(exc, method)
    await context.abort(status.code, status.details, status.trailing_metadata)
