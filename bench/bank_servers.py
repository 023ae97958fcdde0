"""Local bank-data servers for tests and benchmarks: GoCardless Bank Account Data v2 and the `api`
provider's JSON shape, each a real HTTP/1.1 server on a free port of 127.0.0.1.

Not part of any service: worker-financial talks to them over HTTP exactly as
it talks to the real ones (its base URL is configurable). They speak the
documented shapes:

- GoCardless: POST /api/v2/token/new/ and /api/v2/token/refresh/ (access and refresh
  tokens with their expiry in seconds; a request with an expired or unknown token
  gets 401), POST /api/v2/requisitions/ and GET /api/v2/requisitions/{id}/,
  GET /api/v2/accounts/{id}/ (metadata), .../details/, .../balances/ and
  .../transactions/?date_from&date_to ({"transactions": {"booked": [...],
  "pending": [...]}}), 404 for an unknown account, and the rate-limit headers
  HTTP_X_RATELIMIT_LIMIT / _REMAINING / _RESET and HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_LIMIT /
  _REMAINING / _RESET on every account data reply. A bank's allowance of successful
  calls per account and endpoint (`account_success_limit`) answers 429 past it, and
  `throttle_next` answers 429 to the next calls whatever the allowance.
- api: see worker_financial/sync/api.py for the shape.

Every request is logged (`requests`), so a test can count what reached the bank.
The server is asyncio (one task per connection, `Connection: close` after each
reply), started and stopped in the caller's event loop.
"""

from __future__ import annotations

import asyncio
import json
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Final
from urllib.parse import parse_qs, urlsplit

Reply = tuple[int, dict[str, str], Any]
_REASONS: Final = {
    200: "OK",
    201: "Created",
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    429: "Too Many Requests",
    500: "Internal Server Error",
}


def _json_default(value: object) -> str:
    if isinstance(value, Decimal | date):
        return str(value)
    raise TypeError(f"not JSON: {type(value).__name__}")


@dataclass(frozen=True, slots=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]  # lower-case names
    body: Any


class JsonHttpServer:
    """A tiny HTTP/1.1 JSON server: `handle` maps a request to (status, headers, JSON body)."""

    def __init__(self) -> None:
        self._server: asyncio.Server | None = None
        self.port = 0
        self.requests: list[Request] = []

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> JsonHttpServer:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]
        return self

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def __aenter__(self) -> JsonHttpServer:
        return await self.start()

    async def __aexit__(self, *_: object) -> None:
        await self.stop()

    def handle(self, request: Request) -> Reply:
        raise NotImplementedError

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method, target, _ = lines[0].split(" ", 2)
            headers = {}
            for line in lines[1:]:
                if ":" in line:
                    name, value = line.split(":", 1)
                    headers[name.strip().lower()] = value.strip()
            length = int(headers.get("content-length", "0"))
            raw = await reader.readexactly(length) if length else b""
            url = urlsplit(target)
            query = {k: v[-1] for k, v in parse_qs(url.query).items()}
            body = json.loads(raw) if raw else None
            request = Request(method, url.path, query, headers, body)
            self.requests.append(request)
            try:
                status, extra, payload = self.handle(request)
            except Exception as exc:  # a bug in the fake: say so in the reply
                status, extra, payload = 500, {}, {"summary": "fake server error", "detail": repr(exc)}
            data = json.dumps(payload, default=_json_default).encode()
            out = [f"HTTP/1.1 {status} {_REASONS.get(status, 'Status')}"]
            out += [f"{k}: {v}" for k, v in {"Content-Type": "application/json", **extra}.items()]
            out += [f"Content-Length: {len(data)}", "Connection: close", "", ""]
            writer.write("\r\n".join(out).encode("latin-1") + data)
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError, ValueError):
            pass
        finally:
            writer.close()


def _error(status: int, summary: str, detail: str, extra: Mapping[str, str] | None = None) -> Reply:
    return status, dict(extra or {}), {"summary": summary, "detail": detail, "status_code": status}


@dataclass
class FakeAccount:
    """One account at the fake bank: what its endpoints answer."""

    currency: str = "EUR"
    name: str = "Main Account"
    iban: str = "GL3343697694912188"
    owner: str = "Jane Doe"
    booked: list[dict[str, Any]] = field(default_factory=list)
    pending: list[dict[str, Any]] = field(default_factory=list)
    balances: list[dict[str, Any]] = field(default_factory=list)


def _item_date(item: Mapping[str, Any]) -> date | None:
    for key in ("bookingDate", "valueDate", "bookingDateTime", "valueDateTime"):
        if item.get(key):
            return date.fromisoformat(str(item[key])[:10])
    return None


class FakeGoCardless(JsonHttpServer):
    """GoCardless Bank Account Data v2, as far as transaction-sync uses it (module docstring)."""

    def __init__(
        self,
        secret_id: str = "fake-secret-id",
        secret_key: str = "fake-secret-key",
        *,
        access_expires: int = 86_400,
        refresh_expires: int = 2_592_000,
        account_success_limit: int | None = None,
        account_success_reset: int = 86_400,
    ) -> None:
        super().__init__()
        self.secret_id = secret_id
        self.secret_key = secret_key
        self.access_expires = access_expires
        self.refresh_expires = refresh_expires
        self.account_success_limit = account_success_limit
        self.account_success_reset = account_success_reset
        self.accounts: dict[str, FakeAccount] = {}
        self.requisitions: dict[str, dict[str, Any]] = {}
        self._access: dict[str, float] = {}  # token -> monotonic expiry
        self._refresh: dict[str, float] = {}
        self._successes: dict[tuple[str, str], int] = {}
        self._throttled: list[int] = []  # reset seconds of the next 429s to answer

    # -- what a test controls --------------------------------------------------------------------
    def expire_access_tokens(self) -> None:
        """Every access token issued so far stops working (the next call gets 401)."""
        self._access.clear()

    def expire_refresh_tokens(self) -> None:
        self._refresh.clear()

    def throttle_next(self, calls: int = 1, reset_s: int = 1) -> None:
        """Answer the next `calls` account data calls with 429, reset in `reset_s` seconds."""
        self._throttled += [reset_s] * calls

    def calls(self, path_part: str, method: str = "GET") -> int:
        """How many requests whose path contains `path_part` reached the server."""
        return sum(1 for r in self.requests if r.method == method and path_part in r.path)

    # -- the API -----------------------------------------------------------------------------------
    def handle(self, request: Request) -> Reply:
        parts = [p for p in request.path.split("/") if p]
        if parts[:2] != ["api", "v2"]:
            return _error(404, "Not found.", "Not found.")
        rest = parts[2:]
        if request.method == "POST" and rest == ["token", "new"]:
            return self._new_token(request.body or {})
        if request.method == "POST" and rest == ["token", "refresh"]:
            return self._refresh_token(request.body or {})
        if not self._authorized(request):
            return _error(401, "Invalid token", "Token is invalid or expired")
        if rest[:1] == ["requisitions"]:
            return self._requisitions(request, rest[1:])
        if rest[:1] == ["accounts"] and len(rest) >= 2:
            return self._account(request, rest[1], rest[2] if len(rest) > 2 else None)
        return _error(404, "Not found.", "Not found.")

    def _new_token(self, body: Mapping[str, Any]) -> Reply:
        if body.get("secret_id") != self.secret_id or body.get("secret_key") != self.secret_key:
            return _error(401, "Authentication failed", "No active account found with the given credentials")
        access, refresh = secrets.token_hex(16), secrets.token_hex(16)
        now = time.monotonic()
        self._access[access] = now + self.access_expires
        self._refresh[refresh] = now + self.refresh_expires
        return (
            200,
            {},
            {
                "access": access,
                "access_expires": self.access_expires,
                "refresh": refresh,
                "refresh_expires": self.refresh_expires,
            },
        )

    def _refresh_token(self, body: Mapping[str, Any]) -> Reply:
        refresh = str(body.get("refresh") or "")
        if self._refresh.get(refresh, 0.0) < time.monotonic():
            return _error(401, "Invalid token", "Token is invalid or expired")
        access = secrets.token_hex(16)
        self._access[access] = time.monotonic() + self.access_expires
        return 200, {}, {"access": access, "access_expires": self.access_expires}

    def _authorized(self, request: Request) -> bool:
        scheme, _, token = request.headers.get("authorization", "").partition(" ")
        return scheme == "Bearer" and self._access.get(token, 0.0) >= time.monotonic()

    def _requisitions(self, request: Request, rest: list[str]) -> Reply:
        if request.method == "POST" and not rest:
            body = request.body or {}
            found = f"req-{secrets.token_hex(6)}"
            self.requisitions[found] = {
                "id": found,
                "status": "CR",
                "institution_id": body.get("institution_id"),
                "redirect": body.get("redirect"),
                "reference": body.get("reference"),
                "accounts": [],
                "link": f"{self.base_url}/psd2/start/{found}/{body.get('institution_id')}",
            }
            return 201, {}, self.requisitions[found]
        if request.method == "GET" and len(rest) == 1 and rest[0] in self.requisitions:
            return 200, {}, self.requisitions[rest[0]]
        return _error(404, "Not found.", "Not found.")

    def link(self, requisition_id: str, account_ids: list[str]) -> None:
        """The person agreed at the bank: the requisition is linked to these accounts."""
        self.requisitions[requisition_id].update(status="LN", accounts=list(account_ids))

    def _limit_headers(self, account_id: str, scope: str) -> dict[str, str]:
        used = self._successes.get((account_id, scope), 0)
        limit = self.account_success_limit
        return {
            "HTTP_X_RATELIMIT_LIMIT": "100",
            "HTTP_X_RATELIMIT_REMAINING": "99",
            "HTTP_X_RATELIMIT_RESET": "60",
            "HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_LIMIT": str(limit if limit is not None else 1000),
            "HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_REMAINING": str(
                max(0, limit - used) if limit is not None else 1000 - used
            ),
            "HTTP_X_RATELIMIT_ACCOUNT_SUCCESS_RESET": str(self.account_success_reset),
        }

    def _account(self, request: Request, account_id: str, scope: str | None) -> Reply:
        account = self.accounts.get(account_id)
        if account is None or request.method != "GET":
            return _error(404, "Not found.", "Not found.")
        if scope is None:  # metadata: not limited by the bank
            return (
                200,
                {},
                {
                    "id": account_id,
                    "iban": account.iban,
                    "institution_id": "SANDBOXFINANCE_SFIN0000",
                    "status": "READY",
                    "owner_name": account.owner,
                },
            )
        if scope not in ("details", "balances", "transactions"):
            return _error(404, "Not found.", "Not found.")
        if self._throttled:
            reset = self._throttled.pop(0)
            headers = {
                "HTTP_X_RATELIMIT_LIMIT": "100",
                "HTTP_X_RATELIMIT_REMAINING": "0",
                "HTTP_X_RATELIMIT_RESET": str(reset),
            }
            return _error(
                429,
                "Rate limit exceeded",
                f"Request was throttled. Expected available in {reset} seconds.",
                headers,
            )
        used = self._successes.get((account_id, scope), 0)
        if self.account_success_limit is not None and used >= self.account_success_limit:
            reset = self.account_success_reset
            return _error(
                429,
                "Rate limit exceeded",
                f"The daily request limit set by the Institution has been exceeded. "
                f"Expected available in {reset} seconds.",
                self._limit_headers(account_id, scope),
            )
        if scope == "transactions":
            body = self._transactions(account, request.query)
            if isinstance(body, tuple):
                return body
        elif scope == "details":
            body = {
                "account": {
                    "resourceId": account_id,
                    "iban": account.iban,
                    "currency": account.currency,
                    "ownerName": account.owner,
                    "name": account.name,
                }
            }
        else:
            body = {"balances": account.balances}
        self._successes[(account_id, scope)] = used + 1
        return 200, self._limit_headers(account_id, scope), body

    def _transactions(self, account: FakeAccount, query: Mapping[str, str]) -> Any:
        try:
            since = date.fromisoformat(query["date_from"]) if "date_from" in query else None
            until = date.fromisoformat(query["date_to"]) if "date_to" in query else None
        except ValueError:
            return _error(400, "Invalid date", "date_from and date_to are YYYY-MM-DD")
        if since is not None and until is not None and until < since:
            return _error(400, "Incorrect date range", "Starting date is greater than end date")

        def within(item: Mapping[str, Any]) -> bool:
            day = _item_date(item)
            return day is None or ((since is None or since <= day) and (until is None or day <= until))

        return {
            "transactions": {
                "booked": [t for t in account.booked if within(t)],
                "pending": [t for t in account.pending if within(t)],
            }
        }


@dataclass
class ApiAccount:
    """One account behind the fake `api` provider."""

    currency: str = "EUR"
    name: str = "Api Account"
    transactions: list[dict[str, Any]] = field(default_factory=list)
    balance: dict[str, Any] = field(default_factory=dict)


class FakeApi(JsonHttpServer):
    """The `api` provider's shape (worker_financial/sync/api.py), paged `page_size` at a time."""

    def __init__(self, token: str | None = None, page_size: int = 2) -> None:
        super().__init__()
        self.token = token
        self.page_size = page_size
        self.accounts: dict[str, ApiAccount] = {}
        self._throttled: list[int] = []

    def throttle_next(self, calls: int = 1, retry_after_s: int = 1) -> None:
        self._throttled += [retry_after_s] * calls

    def handle(self, request: Request) -> Reply:
        if self.token is not None and request.headers.get("authorization") != f"Bearer {self.token}":
            return 401, {}, {"error": "unauthorized"}
        if self._throttled:
            return 429, {"Retry-After": str(self._throttled.pop(0))}, {"error": "too many requests"}
        parts = [p for p in request.path.split("/") if p]
        if len(parts) < 2 or parts[0] != "accounts" or parts[1] not in self.accounts:
            return 404, {}, {"error": "no such account"}
        account = self.accounts[parts[1]]
        if len(parts) == 2:
            return 200, {}, {"id": parts[1], "name": account.name, "currency": account.currency}
        if parts[2:] == ["balance"]:
            return 200, {}, account.balance
        if parts[2:] != ["transactions"]:
            return 404, {}, {"error": "not found"}
        since = request.query.get("from")
        until = request.query.get("to")
        chosen = [
            t
            for t in account.transactions
            if (since is None or since <= t["bookingDate"]) and (until is None or t["bookingDate"] <= until)
        ]
        start = int(request.query.get("cursor", "0"))
        page = chosen[start : start + self.page_size]
        more = start + self.page_size < len(chosen)
        return 200, {}, {"transactions": page, "next": str(start + self.page_size) if more else None}
