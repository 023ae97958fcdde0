"""dlq-svc's own configuration: retention, recovery and pattern thresholds, read once at start-up.

Retention is explicit: dead letters are kept `retention_ms` (DLQ_RETENTION, 30
days by default) and at most `retention_max` of them (DLQ_RETENTION_MAX); a
trim announces itself on `system:events`. A bad value is one line naming the
variable (ConfigError), like every other variable of the mesh.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from queue_system.settings import parse_duration_ms, positive_int, reader


@dataclass(frozen=True, slots=True)
class DlqSettings:
    """What dlq-svc is configured with (defaults are the documented ones)."""

    retention_ms: int = 30 * 24 * 3600 * 1000  # DLQ_RETENTION
    retention_max: int = 1_000_000  # DLQ_RETENTION_MAX
    retry_base_ms: int = 30_000  # DLQ_RETRY_DELAY: the first automatic retry's delay (x the rule's factor)
    max_auto_retries: int = 3  # DLQ_MAX_AUTO_RETRIES: automatic retries of one job, at most
    redrive_per_second: int = 10  # DLQ_REDRIVE_PER_SECOND: bulk redrive's default rate
    sweep_ms: int = 1000  # DLQ_SWEEP_INTERVAL: how often due retries and retention are looked at
    recurring_threshold: int = 10  # DLQ_RECURRING_THRESHOLD: same fingerprint this often in the window
    pattern_window_ms: int = 60_000  # DLQ_PATTERN_WINDOW: the sliding window of recurring_error
    alert_cooldown_ms: int = 600_000  # DLQ_ALERT_COOLDOWN: one alert per pattern and subject this long


# variable -> (field, largest value allowed)
_INTS = {
    "DLQ_RETENTION_MAX": ("retention_max", 1_000_000_000),
    "DLQ_MAX_AUTO_RETRIES": ("max_auto_retries", 100),
    "DLQ_REDRIVE_PER_SECOND": ("redrive_per_second", 10_000),
    "DLQ_RECURRING_THRESHOLD": ("recurring_threshold", 1_000_000),
}
_DURATIONS = {
    "DLQ_RETENTION": "retention_ms",
    "DLQ_RETRY_DELAY": "retry_base_ms",
    "DLQ_SWEEP_INTERVAL": "sweep_ms",
    "DLQ_PATTERN_WINDOW": "pattern_window_ms",
    "DLQ_ALERT_COOLDOWN": "alert_cooldown_ms",
}


def load(env: Mapping[str, str] | None = None) -> DlqSettings:
    """DlqSettings from an environment mapping (os.environ by default); ConfigError on a bad value."""
    get = reader(env)
    values: dict[str, int] = {}
    for variable, (name, upper) in _INTS.items():
        if (raw := get(variable)) is not None:
            values[name] = positive_int(variable, raw, upper)
    for variable, name in _DURATIONS.items():
        if (raw := get(variable)) is not None:
            values[name] = parse_duration_ms(variable, raw)
    return DlqSettings(**values)
