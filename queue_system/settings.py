"""The queue runtime's configuration from the environment, checked once at start-up.

Every variable of the runtime is read here and nowhere else (a service's own,
such as its ports, in `service_kit.settings`). A bad value raises `ConfigError`,
which the service entry points turn into one line on stderr and exit code 2, so
an operator learns which variable is wrong before anything starts.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Final
from urllib.parse import urlencode, urlsplit, urlunsplit

from queue_system.catalog import ALL_QUEUES, WORKER_CONFIGS, QueueConfig, RateLimit


class ConfigError(ValueError):
    """An environment variable holds a value jobmesh cannot use."""

    def __init__(self, variable: str, expected: str, got: str) -> None:
        super().__init__(f"{variable}: expected {expected}, got {got!r}")
        self.variable = variable


@dataclass(frozen=True, slots=True)
class Retention:
    """removeOnComplete / removeOnFail: remove at once, keep forever, or keep within bounds."""

    remove: bool = False
    count: int = 0  # keep at most this many newest; 0 = no count bound
    age_ms: int = 0  # keep at most this long; 0 = no age bound


@dataclass(frozen=True, slots=True)
class QueueTuning:
    """Timers of the reliable-delivery machinery (all in milliseconds)."""

    # A job whose worker has not renewed its lease for this long is reclaimed.
    reclaim_ms: int = 4000
    # Deliveries without finishing after which a job is dead-lettered as poison.
    max_deliveries: int = 3
    # How long a stopping worker lets running jobs finish before giving them back.
    shutdown_grace_ms: int = 10_000
    # Longest a blocking read waits before looking at timers again.
    block_ms: int = 1000
    # How long an add rides out a Redis outage (waiting for a connection and
    # trying again) before it fails with UnavailableError.
    ride_out_ms: int = 10_000

    @property
    def renew_ms(self) -> int:
        """Lease renewal period: several renewals fit in one reclaim window."""
        return max(50, self.reclaim_ms // 4)

    @property
    def reclaim_check_ms(self) -> int:
        """How often each worker looks for jobs of dead workers."""
        return max(50, self.reclaim_ms // 8)


@dataclass(frozen=True, slots=True)
class Settings:
    """What the queue runtime is configured with (services add their own: service_kit.settings)."""

    redis_url: str = "redis://127.0.0.1:6379/0"
    queue_prefix: str = "jobmesh"
    remove_on_complete: Retention = Retention(remove=True)
    remove_on_fail: Retention = Retention(remove=False)
    queues: Mapping[str, QueueConfig] = field(default_factory=lambda: dict(WORKER_CONFIGS))
    tuning: QueueTuning = QueueTuning()

    @property
    def redis_url_redacted(self) -> str:
        """REDIS_URL with any password replaced, safe for logs."""
        return redact_url(self.redis_url)


def redact_url(url: str) -> str:
    """Hide the password of a URL (secrets never reach logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d)$")
_UNIT_MS: Final = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_PREFIX = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")


def parse_duration_ms(variable: str, raw: str) -> int:
    """'500ms', '30s', '5m', '24h', '7d' -> milliseconds."""
    m = _DURATION.match(raw.strip())
    if not m:
        raise ConfigError(variable, "a duration like 500ms, 30s, 5m, 24h or 7d", raw)
    return int(m.group(1)) * _UNIT_MS[m.group(2)]


def parse_retention(variable: str, raw: str) -> Retention:
    """true | false | <count> | <duration> | <count>,<duration>."""
    value = raw.strip().lower()
    expected = "true, false, a count (1000), an age (24h) or both (1000,24h)"
    if value in ("true", "1", "yes"):
        return Retention(remove=True)
    if value in ("false", "0", "no"):
        return Retention(remove=False)
    count, age_ms = 0, 0
    for raw_part in value.split(","):
        part = raw_part.strip()
        if part.isdigit() and count == 0:
            count = int(part)
        elif _DURATION.match(part) and age_ms == 0:
            age_ms = parse_duration_ms(variable, part)
        else:
            raise ConfigError(variable, expected, raw)
    if count == 0 and age_ms == 0:
        raise ConfigError(variable, expected, raw)
    return Retention(count=count, age_ms=age_ms)


def positive_int(variable: str, raw: str, upper: int = 10_000) -> int:
    if not raw.strip().isdigit() or not 1 <= int(raw) <= upper:
        raise ConfigError(variable, f"an integer from 1 to {upper}", raw)
    return int(raw)


def _redis_url(raw: str) -> str:
    parts = urlsplit(raw.strip())
    ok = (parts.scheme in ("redis", "rediss") and bool(parts.hostname)) or (
        parts.scheme == "unix" and bool(parts.path)
    )
    if ok and parts.scheme != "unix":
        try:
            _ = parts.port
        except ValueError:
            ok = False
        db = parts.path.lstrip("/")
        ok = ok and (db == "" or db.isdigit())
    if not ok:
        raise ConfigError(
            "REDIS_URL", "a Redis URL like redis://localhost:6379/0 (or rediss://, unix://)", redact_url(raw)
        )
    return raw.strip()


# REDIS_TLS_* variable -> the redis-py connection argument it sets (through the URL's query, which
# every client built from the URL passes on: the queue clients, health, taskiq's result backend).
REDIS_TLS_FILES: Final = {
    "REDIS_TLS_CA_FILE": "ssl_ca_certs",
    "REDIS_TLS_CERT_FILE": "ssl_certfile",
    "REDIS_TLS_KEY_FILE": "ssl_keyfile",
}


def with_redis_tls(url: str, get: Callable[[str], str | None]) -> str:
    """`url` with the REDIS_TLS_* files added as redis-py query arguments.

    Why the URL and not client arguments: every Redis client of jobmesh (and taskiq's) is
    built from REDIS_URL alone, so a rediss:// URL that carries its CA and client
    certificate reaches all of them, and a URL an operator writes by hand
    (`rediss://host:6380/0?ssl_ca_certs=/etc/ca.pem`) works the same way.
    """
    chosen = {var: raw for var in REDIS_TLS_FILES if (raw := get(var)) is not None}
    if not chosen:
        return url
    if urlsplit(url).scheme != "rediss":
        var = next(iter(chosen))
        raise ConfigError(var, "to be set only with a rediss:// REDIS_URL", chosen[var])
    for var, path in chosen.items():
        if not os.path.isfile(path):
            raise ConfigError(var, "a readable PEM file", path)
    if ("REDIS_TLS_CERT_FILE" in chosen) != ("REDIS_TLS_KEY_FILE" in chosen):
        var = "REDIS_TLS_KEY_FILE" if "REDIS_TLS_CERT_FILE" in chosen else "REDIS_TLS_CERT_FILE"
        raise ConfigError(var, "to be set with its pair (a client certificate needs its key)", "")
    parts = urlsplit(url)
    query = [parts.query] if parts.query else []
    query += [urlencode({REDIS_TLS_FILES[var]: path}) for var, path in chosen.items()]
    return urlunsplit(parts._replace(query="&".join(query)))


def _rate_limit(variable: str, raw: str) -> RateLimit | None:
    """'none' or '<max>/<duration>', e.g. 10/60s."""
    value = raw.strip().lower()
    if value == "none":
        return None
    max_s, _, dur = value.partition("/")
    if not max_s.isdigit() or int(max_s) < 1 or not dur:
        raise ConfigError(variable, "none or <max>/<duration> like 10/60s", raw)
    return RateLimit(int(max_s), parse_duration_ms(variable, dur))


def queue_env_stem(queue: str) -> str:
    """JOBMESH_QUEUE_REPORT_GENERATION for report-generation."""
    return "JOBMESH_QUEUE_" + queue.upper().replace("-", "_")


def reader(env: Mapping[str, str] | None) -> Callable[[str], str | None]:
    """A lookup in `env` (os.environ by default) where an empty variable counts as unset."""
    source = os.environ if env is None else env

    def get(name: str) -> str | None:
        value = source.get(name)
        return value if value not in (None, "") else None

    return get


def load(env: Mapping[str, str] | None = None) -> Settings:
    """Build Settings from an environment mapping (os.environ by default)."""
    get = reader(env)

    kw: dict[str, object] = {}
    if (raw := get("REDIS_URL")) is not None:
        kw["redis_url"] = with_redis_tls(_redis_url(raw), get)
    if (raw := get("QUEUE_PREFIX")) is not None:
        if not _PREFIX.match(raw):
            raise ConfigError("QUEUE_PREFIX", "letters, digits, '_', '.', '-' (at most 64)", raw)
        kw["queue_prefix"] = raw
    if (raw := get("QUEUE_DEFAULT_REMOVE_ON_COMPLETE")) is not None:
        kw["remove_on_complete"] = parse_retention("QUEUE_DEFAULT_REMOVE_ON_COMPLETE", raw)
    if (raw := get("QUEUE_DEFAULT_REMOVE_ON_FAIL")) is not None:
        kw["remove_on_fail"] = parse_retention("QUEUE_DEFAULT_REMOVE_ON_FAIL", raw)
    queues: dict[str, QueueConfig] = {}
    for queue in ALL_QUEUES:
        base = WORKER_CONFIGS[queue]
        stem = queue_env_stem(queue)
        concurrency, limiter = base.concurrency, base.limiter
        if (raw := get(f"{stem}_CONCURRENCY")) is not None:
            concurrency = positive_int(f"{stem}_CONCURRENCY", raw)
        if (raw := get(f"{stem}_RATE_LIMIT")) is not None:
            limiter = _rate_limit(f"{stem}_RATE_LIMIT", raw)
        queues[queue] = QueueConfig(concurrency, limiter)
    kw["queues"] = queues

    tuning = QueueTuning()
    if (raw := get("JOBMESH_RECLAIM_MS")) is not None:
        tuning = replace(tuning, reclaim_ms=positive_int("JOBMESH_RECLAIM_MS", raw, 3_600_000))
    if (raw := get("JOBMESH_MAX_DELIVERIES")) is not None:
        tuning = replace(tuning, max_deliveries=positive_int("JOBMESH_MAX_DELIVERIES", raw, 1000))
    if (raw := get("JOBMESH_SHUTDOWN_GRACE_MS")) is not None:
        tuning = replace(
            tuning, shutdown_grace_ms=positive_int("JOBMESH_SHUTDOWN_GRACE_MS", raw, 3_600_000)
        )
    if (raw := get("JOBMESH_RIDE_OUT_MS")) is not None:
        tuning = replace(tuning, ride_out_ms=positive_int("JOBMESH_RIDE_OUT_MS", raw, 3_600_000))
    kw["tuning"] = tuning
    return Settings(**kw)  # type: ignore[arg-type]
