"""What the HTTP providers share: reading a reply's JSON exactly, and turning a refusal into the
error that makes the queue do the right thing (sync/errors.py).

Amounts stay exact: JSON numbers are read as Decimals, never floats. A 429's
wait comes from the reply's headers: GoCardless's documented rate-limit headers
(HTTP_X_RATELIMIT_RESET and HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_RESET, seconds
until the limit resets; also accepted as X-RateLimit-Reset...), else a
standard Retry-After, else the seconds GoCardless writes in the body's
`detail` ("Expected available in 86400 seconds"), else a minute.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal, InvalidOperation
from typing import Any, Final
from urllib.parse import quote

import httpx

from worker_financial.sync.errors import (
    ProviderAuthError,
    ProviderError,
    RateLimitedError,
    SyncInputError,
    UnknownAccountError,
    UnknownResourceError,
)

DEFAULT_RETRY_AFTER_S: Final = 60
_SECONDS_IN_DETAIL: Final = re.compile(r"(\d+)\s*seconds?", re.IGNORECASE)


def header(headers: httpx.Headers, name: str) -> str | None:
    """A rate-limit header under its documented name (HTTP_X_RATELIMIT_...) or its usual one
    (X-RateLimit-...): `name` is the part after X_RATELIMIT_, e.g. "ACCOUNT_SUCCESS_RESET"."""
    for spelling in (f"HTTP_X_RATELIMIT_{name}", f"X-RATELIMIT-{name.replace('_', '-')}"):
        value: str | None = headers.get(spelling)
        if value is not None:
            return value
    return None


def _seconds(raw: str | None) -> float | None:
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def account_limit_spent(headers: httpx.Headers) -> float | None:
    """Seconds until the bank's per-account allowance resets, when the reply says none is left."""
    remaining = _seconds(header(headers, "ACCOUNT_SUCCESS_REMAINING"))
    if remaining is None or remaining > 0:
        return None
    return _seconds(header(headers, "ACCOUNT_SUCCESS_RESET")) or float(DEFAULT_RETRY_AFTER_S)


def retry_after(response: httpx.Response) -> int:
    """Whole seconds to wait after a 429 (see the module docstring for where they come from)."""
    headers = response.headers
    waits = [
        seconds
        for name in ("ACCOUNT_SUCCESS_RESET", "RESET")
        if (seconds := _seconds(header(headers, name))) is not None
    ]
    # The per-account limit is the one that bit when it has nothing left; else the general one.
    spent = account_limit_spent(headers)
    if spent is not None:
        return max(1, math.ceil(spent))
    if waits:
        return max(1, math.ceil(waits[-1]))
    standard = _seconds(headers.get("Retry-After"))
    if standard is not None:
        return max(1, math.ceil(standard))
    found = _SECONDS_IN_DETAIL.search(response.text)
    return max(1, int(found.group(1))) if found else DEFAULT_RETRY_AFTER_S


def json_of(response: httpx.Response, provider: str) -> Any:
    """The reply's JSON, numbers as Decimals; ProviderError when it is not JSON."""
    try:
        return json.loads(response.content, parse_float=Decimal)
    except ValueError as exc:
        raise ProviderError(
            f"HTTP {response.status_code} from {provider} {response.request.url.path}: the reply is not JSON"
        ) from exc


def _said(response: httpx.Response) -> str:
    """What a refusal's body says (GoCardless: `summary` and `detail`), shortened."""
    try:
        body = json.loads(response.content)
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        parts = [str(body[k]) for k in ("summary", "detail", "error", "message") if body.get(k)]
        return ": ".join(parts)[:300]
    return str(body)[:200]


def refuse(response: httpx.Response, provider: str, account: str | None = None) -> None:
    """Raise the error a non-2xx reply stands for (nothing for a 2xx)."""
    status = response.status_code
    if 200 <= status < 300:
        return
    where = f"{provider} {response.request.method} {response.request.url.path}"
    said = _said(response)
    if status == 429:
        wait = retry_after(response)
        raise RateLimitedError(f"HTTP 429 from {where}: rate limit, retry in {wait} s ({said})", wait)
    if status in (401, 403):
        raise ProviderAuthError(f"HTTP {status} from {where}: {said}")
    if status == 404 and account is not None:
        raise UnknownAccountError(f"{provider} has no account {account!r} (HTTP 404 from {where})")
    if status == 404:
        raise UnknownResourceError(f"HTTP 404 from {where}: {said}")
    if 400 <= status < 500 and status not in (408, 409):
        raise SyncInputError(f"HTTP {status} from {where}: {said}")
    raise ProviderError(f"HTTP {status} from {where}: {said}")


def decimal_of(value: object, what: str) -> Decimal:
    """An exact amount from a JSON string ("-12.50") or number; ValueError naming `what` otherwise."""
    if isinstance(value, bool) or not isinstance(value, str | int | Decimal):
        raise ValueError(f"{what} is not an amount: {value!r}")
    try:
        amount = Decimal(value.strip()) if isinstance(value, str) else Decimal(value)
    except InvalidOperation:
        raise ValueError(f"{what} is not an amount: {value!r}") from None
    if not amount.is_finite():
        raise ValueError(f"{what} is not an amount: {value!r}")
    return amount


def path_segment(value: str) -> str:
    """An id as one URL path segment, so a job's account id can only ever name an account: quoted
    whole ("a/b" -> "a%2Fb"), and refused when it is empty or a dot segment."""
    if value in ("", ".", ".."):
        raise SyncInputError(f"{value!r} cannot be an account or requisition id")
    return quote(value, safe="")
