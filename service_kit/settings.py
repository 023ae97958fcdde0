"""A service's configuration: the queue runtime's settings plus what only a service has.

The runtime's variables are read by `queue_system.settings`; this module adds
the service's own (its ports, the address it binds, its log level, a worker
service's concurrency override, worker-financial's ledger database) and shares
the runtime's rule: every variable is read once at start-up, and a bad value raises `ConfigError`, which
`run_service` turns into one line on stderr and exit code 2.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from queue_system import settings as runtime
from queue_system.keys import DEFAULT_CATCHUP_WINDOW_S
from queue_system.settings import ConfigError, parse_duration_ms, positive_int, reader, redact_url
from service_kit.auth import Caller, Credentials, parse_credentials


@dataclass(frozen=True, slots=True)
class ServiceSpec:
    """One service of the mesh: its name on the wire, module, and default ports."""

    name: str
    module: str
    grpc_port: int
    metrics_port: int

    @property
    def env_stem(self) -> str:
        """Prefix of this service's variables, e.g. TRADING_SVC (TRADING_SVC_PORT, ...)."""
        return self.module.upper()


SERVICES: Final = (
    ServiceSpec("trading-svc", "trading_svc", 3002, 9002),
    ServiceSpec("worker-financial", "worker_financial", 3101, 9101),
    ServiceSpec("worker-trading", "worker_trading", 3102, 9102),
    ServiceSpec("dlq-svc", "dlq_svc", 3103, 9103),
)
SERVICE_BY_MODULE: Final = {s.module: s for s in SERVICES}
# Services that run jobs and accept <STEM>_CONCURRENCY (e.g. WORKER_TRADING_CONCURRENCY).
WORKER_MODULES: Final = ("worker_financial", "worker_trading")
LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR")
# DATABASE_URL schemes the ledger speaks: PostgreSQL (through psycopg 3) or an SQLite file.
POSTGRES_SCHEMES: Final = ("postgresql", "postgres", "postgresql+psycopg")
SQLITE_SCHEMES: Final = ("sqlite", "sqlite+aiosqlite")


def default_data_dir(xdg_data_home: str | None = None) -> Path:
    """Where a service keeps files of its own (the SQLite ledger): $XDG_DATA_HOME/jobmesh."""
    return Path(xdg_data_home or Path.home() / ".local" / "share") / "jobmesh"


# Where a service listens when JOBMESH_BIND_HOST is unset: loopback only, safe without credentials.
DEFAULT_BIND_HOST: Final = "127.0.0.1"
# State-changing calls one caller may make per process: a burst of this many, refilled over the period.
DEFAULT_CALLER_RATE: Final = (50, 1000)
TRUE_WORDS: Final = ("1", "true", "yes")


@dataclass(frozen=True, slots=True)
class TlsFiles:
    """PEM files of a service's TLS: its certificate chain and key, and (for mTLS) the CA its
    clients' certificates must chain to."""

    cert: Path
    key: Path
    client_ca: Path | None = None


@dataclass(frozen=True, slots=True)
class Security:
    """Who may call a service and how: credentials, TLS, the per-caller rate, the bind opt-out.

    With no credentials the services run without authentication, which `load` allows only
    on a loopback address unless JOBMESH_ALLOW_UNAUTHENTICATED says otherwise.
    """

    credentials: Credentials = field(default_factory=lambda: Credentials({}, {}))
    tls: TlsFiles | None = None
    # per caller: `rate_count` state-changing calls per `rate_period_ms`
    rate_count: int = DEFAULT_CALLER_RATE[0]
    rate_period_ms: int = DEFAULT_CALLER_RATE[1]
    allow_unauthenticated: bool = False

    @property
    def authenticating(self) -> bool:
        return bool(self.credentials)


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost (with or without [brackets])."""
    bare = host.strip().strip("[]")
    if bare.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(bare).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class ServiceSettings:
    """Everything a jobmesh service process is configured with."""

    runtime: runtime.Settings = field(default_factory=runtime.Settings)
    bind_host: str = DEFAULT_BIND_HOST
    grpc_ports: Mapping[str, int] = field(default_factory=lambda: {s.module: s.grpc_port for s in SERVICES})
    metrics_ports: Mapping[str, int] = field(
        default_factory=lambda: {s.module: s.metrics_port for s in SERVICES}
    )
    log_level: str = "INFO"
    # Per worker module: jobs at once per queue, replacing WORKER_CONFIGS' values (None: keep them).
    worker_concurrency: Mapping[str, int | None] = field(default_factory=dict)
    # worker-financial's ledger: DATABASE_URL (PostgreSQL or SQLite), else None: an SQLite
    # file `ledger.db` in `data_dir` (JOBMESH_DATA_DIR).
    database_url: str | None = None
    data_dir: Path = field(default_factory=lambda: default_data_dir(os.environ.get("XDG_DATA_HOME")))
    # Cron schedules (worker-financial's): the IANA zone their crons read in (JOBMESH_SCHEDULE_TZ),
    # and how late a slot missed while no worker ran may still fire (JOBMESH_SCHEDULE_CATCHUP).
    schedule_timezone: str = "UTC"
    schedule_catchup_ms: int = DEFAULT_CATCHUP_WINDOW_S * 1000
    security: Security = field(default_factory=Security)

    @property
    def database_url_redacted(self) -> str | None:
        """DATABASE_URL with any password replaced, safe for logs."""
        return None if self.database_url is None else redact_url(self.database_url)


def _port(variable: str, raw: str) -> int:
    if not raw.strip().isdigit() or not 1 <= int(raw) <= 65535:
        raise ConfigError(variable, "a TCP port from 1 to 65535", raw)
    return int(raw)


def _database_url(raw: str) -> str:
    """A PostgreSQL URL with a database name, or an SQLite URL with a file path."""
    value = raw.strip()
    parts = urlsplit(value)
    scheme = parts.scheme.lower()
    ok = False
    if scheme in POSTGRES_SCHEMES:
        try:
            _ = parts.port
            ok = bool(parts.path.strip("/"))
        except ValueError:
            ok = False
    elif scheme in SQLITE_SCHEMES:
        ok = value.startswith(f"{parts.scheme}:///") and len(value) > len(f"{parts.scheme}:///")
    if not ok:
        raise ConfigError(
            "DATABASE_URL",
            "postgresql://user:pass@host:5432/db (postgres://, postgresql+psycopg://) or sqlite:///path/ledger.db",
            redact_url(value),
        )
    return value


def _pem_file(variable: str, raw: str) -> Path:
    path = Path(raw).expanduser()
    if not path.is_file():
        raise ConfigError(variable, "a readable PEM file", raw)
    return path


def _credentials(get: Callable[[str], str | None]) -> Credentials:
    """JOBMESH_AUTH_TOKENS_FILE's entries plus JOBMESH_AUTH_TOKENS's (see auth.parse_credentials)."""
    tokens: dict[str, Caller] = {}
    certificates: dict[str, Caller] = {}
    if (raw := get("JOBMESH_AUTH_TOKENS_FILE")) is not None:
        path = Path(raw).expanduser()
        try:
            text = path.read_text()
        except OSError:
            raise ConfigError("JOBMESH_AUTH_TOKENS_FILE", "a readable credentials file", raw) from None
        found = parse_credentials(text, "JOBMESH_AUTH_TOKENS_FILE")
        tokens.update(found.tokens)
        certificates.update(found.certificates)
    if (raw := get("JOBMESH_AUTH_TOKENS")) is not None:
        found = parse_credentials(raw, "JOBMESH_AUTH_TOKENS")
        tokens.update(found.tokens)
        certificates.update(found.certificates)
    return Credentials(tokens, certificates)


def load_security(get: Callable[[str], str | None], bind_host: str) -> Security:
    """The security variables, checked together: a non-loopback bind needs credentials
    (JOBMESH_AUTH_TOKENS_FILE, JOBMESH_AUTH_TOKENS) or the explicit opt-out
    JOBMESH_ALLOW_UNAUTHENTICATED=true; TLS needs both its certificate and key."""
    credentials = _credentials(get)
    tls: TlsFiles | None = None
    cert, key = get("JOBMESH_TLS_CERT_FILE"), get("JOBMESH_TLS_KEY_FILE")
    client_ca = get("JOBMESH_TLS_CLIENT_CA_FILE")
    if cert is not None or key is not None or client_ca is not None:
        if cert is None or key is None:
            missing = "JOBMESH_TLS_CERT_FILE" if cert is None else "JOBMESH_TLS_KEY_FILE"
            raise ConfigError(missing, "a PEM file (TLS needs a certificate and its key)", "")
        tls = TlsFiles(
            _pem_file("JOBMESH_TLS_CERT_FILE", cert),
            _pem_file("JOBMESH_TLS_KEY_FILE", key),
            _pem_file("JOBMESH_TLS_CLIENT_CA_FILE", client_ca) if client_ca is not None else None,
        )
    rate_count, rate_period_ms = DEFAULT_CALLER_RATE
    if (raw := get("JOBMESH_AUTH_RATE_LIMIT")) is not None:
        count, _, period = raw.strip().partition("/")
        if not count.isdigit() or int(count) < 1 or not period:
            raise ConfigError("JOBMESH_AUTH_RATE_LIMIT", "<calls>/<duration> like 50/1s", raw)
        rate_count, rate_period_ms = int(count), parse_duration_ms("JOBMESH_AUTH_RATE_LIMIT", period)
    allow = (get("JOBMESH_ALLOW_UNAUTHENTICATED") or "").strip().lower() in TRUE_WORDS
    if not credentials and not allow and not is_loopback(bind_host):
        raise ConfigError(
            "JOBMESH_BIND_HOST",
            "a loopback address (127.0.0.1, [::1], localhost) while no credentials are set "
            "(JOBMESH_AUTH_TOKENS_FILE or JOBMESH_AUTH_TOKENS), or JOBMESH_ALLOW_UNAUTHENTICATED=true",
            bind_host,
        )
    return Security(credentials, tls, rate_count, rate_period_ms, allow)


def load(env: Mapping[str, str] | None = None) -> ServiceSettings:
    """Build ServiceSettings from an environment mapping (os.environ by default)."""
    get = reader(env)
    grpc_ports, metrics_ports = {}, {}
    for spec in SERVICES:
        var = f"{spec.env_stem}_PORT"
        grpc_ports[spec.module] = _port(var, raw) if (raw := get(var)) else spec.grpc_port
        var = f"{spec.env_stem}_METRICS_PORT"
        metrics_ports[spec.module] = _port(var, raw) if (raw := get(var)) else spec.metrics_port
    concurrency: dict[str, int | None] = {}
    for module in WORKER_MODULES:
        var = f"{SERVICE_BY_MODULE[module].env_stem}_CONCURRENCY"
        concurrency[module] = positive_int(var, raw) if (raw := get(var)) is not None else None
    log_level = "INFO"
    if (raw := get("LOG_LEVEL")) is not None:
        if raw.upper() not in LOG_LEVELS:
            raise ConfigError("LOG_LEVEL", ", ".join(LOG_LEVELS[:-1]) + f" or {LOG_LEVELS[-1]}", raw)
        log_level = raw.upper()
    data_dir = (
        Path(raw).expanduser()
        if (raw := get("JOBMESH_DATA_DIR")) is not None
        else default_data_dir(get("XDG_DATA_HOME"))
    )
    bind_host = get("JOBMESH_BIND_HOST") or DEFAULT_BIND_HOST
    return ServiceSettings(
        runtime=runtime.load(env),
        bind_host=bind_host,
        grpc_ports=grpc_ports,
        metrics_ports=metrics_ports,
        log_level=log_level,
        worker_concurrency=concurrency,
        database_url=_database_url(raw) if (raw := get("DATABASE_URL")) is not None else None,
        data_dir=data_dir,
        schedule_timezone=_zone(raw) if (raw := get("JOBMESH_SCHEDULE_TZ")) is not None else "UTC",
        schedule_catchup_ms=(
            parse_duration_ms("JOBMESH_SCHEDULE_CATCHUP", raw)
            if (raw := get("JOBMESH_SCHEDULE_CATCHUP")) is not None
            else DEFAULT_CATCHUP_WINDOW_S * 1000
        ),
        security=load_security(get, bind_host),
    )


def _zone(raw: str) -> str:
    """An IANA zone name zoneinfo knows (the schedules' crons are read in it)."""
    try:
        ZoneInfo(raw)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            "JOBMESH_SCHEDULE_TZ", "an IANA time zone such as UTC or Europe/London", raw
        ) from None
    return raw
