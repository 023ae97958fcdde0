"""The `api` provider: any bank-data service that speaks this small JSON-over-HTTP shape.

For an in-house aggregator, a bank's own API behind an adapter, or a test
double, without writing a provider. The worker calls, below
FINANCIAL_API_BASE_URL (with `Authorization: Bearer <FINANCIAL_API_TOKEN>`
when that is set):

    GET {base}/accounts/{id}
        200 {"id": "acc_1", "name": "Giro", "currency": "EUR"}; 404 for an unknown account
    GET {base}/accounts/{id}/transactions?from=YYYY-MM-DD&to=YYYY-MM-DD[&cursor=...]
        200 {"transactions": [{"id": "t-1", "bookingDate": "2024-03-01", "valueDate": "2024-03-01",
             "amount": "-12.50", "currency": "EUR", "payee": "Coffee Shop", "description": "...",
             "status": "booked"}], "next": null}
    GET {base}/accounts/{id}/balance
        200 {"amount": "1234.56", "currency": "EUR", "date": "2024-03-31", "type": "closing"}

`from`/`to` are left out when the sync has no bound. A transaction's `amount`
is signed (money in positive), a decimal string or a JSON number (read
exactly); `id`, `valueDate`, `description` are optional (without an `id` the
ledger dedupes by fingerprint), `currency` defaults to the reply's top-level
`currency`, `status` is "booked" (default) or "pending". A non-null `next` is
a cursor: the worker asks again with `cursor=<next>` until it is null. A 429
is retried after its Retry-After (or X-RateLimit-Reset) seconds.

With FINANCIAL_API_DAILY_CALLS set, the worker also keeps an allowance of
calls a day per account and endpoint (details, transactions, balance; a
listing is one call however many pages it has: counted per page, a listing
longer than the allowance would spend it every day and never finish),
shared by replicas in Redis (sync/budget.py),
for a service that passes on its banks' limits: the call past it is refused
here as a rate limit and retried when the window ends, a refused call is
given back, and a 429 spends what is left until its retry time. Unset, the
worker counts nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Final

import httpx

from worker_financial.ledger.entries import NewTransaction
from worker_financial.sync.budget import CallBudget
from worker_financial.sync.errors import ProviderError, ProviderNotConfiguredError
from worker_financial.sync.http import decimal_of, json_of, path_segment, refuse, retry_after
from worker_financial.sync.provider import ProviderAccount, ReportedBalance

NAME: Final = "api"
# Pages of one transactions listing the worker follows before it calls the reply broken.
MAX_PAGES: Final = 1000


@dataclass(frozen=True, slots=True)
class ApiSettings:
    """Where the `api` provider is (None: not configured) and its bearer token, if it wants one."""

    base_url: str | None = None
    token: str | None = None
    timeout_s: float = 30.0
    # Calls a day per account and endpoint (FINANCIAL_API_DAILY_CALLS); None: not counted.
    daily_calls: int | None = None

    def __repr__(self) -> str:  # never print the token
        return f"ApiSettings(base_url={self.base_url!r}, daily_calls={self.daily_calls!r})"


def _date(value: object, what: str) -> date:
    if not isinstance(value, str):
        raise ValueError(f"{what} is not a date: {value!r}")
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(f"{what} is not a date: {value!r}") from None


def transaction_of(item: Any, currency: str | None) -> NewTransaction:
    if not isinstance(item, dict):
        raise ValueError("a transaction is not an object")
    status = str(item.get("status") or "booked").lower()
    if status not in ("booked", "pending"):
        raise ValueError(f"status must be booked or pending, got {status!r}")
    item_currency = str(item.get("currency") or currency or "").upper()
    if len(item_currency) != 3:
        raise ValueError("a transaction without a currency (and no top-level currency)")
    return NewTransaction(
        booking_date=_date(item.get("bookingDate"), "bookingDate"),
        value_date=_date(item["valueDate"], "valueDate") if item.get("valueDate") else None,
        amount=decimal_of(item.get("amount"), "amount"),
        currency=item_currency,
        payee=" ".join(str(item.get("payee") or "").split()),
        description=" ".join(str(item.get("description") or "").split()),
        booked=status == "booked",
        provider_transaction_id=str(item["id"]) if item.get("id") not in (None, "") else None,
    )


class ApiProvider:
    """A client of the shape in the module docstring."""

    def __init__(
        self, settings: ApiSettings, budget: CallBudget | None = None, http: httpx.AsyncClient | None = None
    ) -> None:
        self._settings = settings
        # The account's allowance of calls a day (FINANCIAL_API_DAILY_CALLS); None: not counted.
        self._budget = budget
        headers = {"Accept": "application/json"}
        if settings.token:
            headers["Authorization"] = f"Bearer {settings.token}"
        self._http = http or httpx.AsyncClient(
            base_url=(settings.base_url or "").rstrip("/"), timeout=settings.timeout_s, headers=headers
        )

    @property
    def name(self) -> str:
        return NAME

    async def aclose(self) -> None:
        await self._http.aclose()

    async def _get(
        self, path: str, account: str, scope: str | None, params: dict[str, str] | None = None
    ) -> Any:
        """One GET below the base URL, counted against the account's `scope` allowance when there
        is one (None: not counted, a listing's later pages); its JSON object."""
        if not self._settings.base_url:
            raise ProviderNotConfiguredError("the api provider is not configured: set FINANCIAL_API_BASE_URL")
        if self._budget is None or scope is None:
            reply = await self._http.get(path, params=params)
        else:
            reply = await self._counted_get(self._budget, account, scope, path, params)
        refuse(reply, NAME, account)
        body = json_of(reply, NAME)
        if not isinstance(body, dict):
            raise ProviderError(f"HTTP {reply.status_code} from api {path}: the reply is not an object")
        return body

    async def _counted_get(
        self, budget: CallBudget, account: str, scope: str, path: str, params: dict[str, str] | None
    ) -> httpx.Response:
        """A GET spent from the account's `scope` allowance: given back when it fails or is
        refused, and a 429 spends the rest until its retry time (CallBudget.settle)."""
        await budget.spend(account, scope)
        try:
            reply = await self._http.get(path, params=params)
        except BaseException:
            await budget.give_back(account, scope)
            raise
        spent = float(retry_after(reply)) if reply.status_code == 429 else None
        await budget.settle(account, scope, reply.is_success, spent)
        return reply

    async def account(self, external_id: str) -> ProviderAccount:
        body = await self._get(f"/accounts/{path_segment(external_id)}", external_id, "details")
        currency = str(body.get("currency") or "").upper()
        if len(currency) != 3:
            raise ProviderError(f"HTTP 200 from api /accounts/{external_id}: no currency")
        return ProviderAccount(external_id, currency, str(body.get("name") or external_id))

    async def transactions(
        self, external_id: str, date_from: date | None, date_to: date | None
    ) -> list[NewTransaction]:
        params: dict[str, str] = {}
        if date_from is not None:
            params["from"] = date_from.isoformat()
        if date_to is not None:
            params["to"] = date_to.isoformat()
        out: list[NewTransaction] = []
        path = f"/accounts/{path_segment(external_id)}/transactions"
        for page in range(MAX_PAGES):
            body = await self._get(path, external_id, "transactions" if page == 0 else None, params)
            items = body.get("transactions")
            if not isinstance(items, list):
                raise ProviderError(f"HTTP 200 from api {path}: `transactions` is not a list")
            currency = body.get("currency")
            for number, item in enumerate(items):
                try:
                    out.append(transaction_of(item, str(currency) if currency else None))
                except (ValueError, TypeError) as exc:
                    raise ProviderError(f"HTTP 200 from api {path}: transactions[{number}]: {exc}") from None
            cursor = body.get("next")
            if cursor in (None, ""):
                return out
            params = {**params, "cursor": str(cursor)}
        raise ProviderError(f"HTTP 200 from api {path}: more than {MAX_PAGES} pages")

    async def reported_balance(self, external_id: str) -> ReportedBalance:
        body = await self._get(f"/accounts/{path_segment(external_id)}/balance", external_id, "balance")
        try:
            return ReportedBalance(
                amount=decimal_of(body.get("amount"), "amount"),
                currency=str(body["currency"]).upper(),
                reference_date=_date(body["date"], "date") if body.get("date") else None,
                kind=str(body.get("type") or ""),
            )
        except (KeyError, ValueError) as exc:
            raise ProviderError(f"HTTP 200 from api, balance of {external_id}: {exc}") from None
