"""The `gocardless` provider: GoCardless Bank Account Data (formerly Nordigen), API v2.

The worker holds a secret id and key (GOCARDLESS_SECRET_ID / GOCARDLESS_SECRET_KEY)
and trades them for an access token (POST /api/v2/token/new/: `access`,
`access_expires`, `refresh`, `refresh_expires`, in seconds). The access token
is renewed with the refresh token (POST /api/v2/token/refresh/) shortly before
it expires, or at once when the API answers 401; only when the refresh token
has expired too are the secrets sent again. Tokens live in this process only.

A person links their bank through a requisition (POST /api/v2/requisitions/
gives the link to send them to; GET /api/v2/requisitions/{id}/ lists the
accounts it linked once they agreed); `link_requisition` opens a ledger account
for each. A transaction-sync then reads
GET /api/v2/accounts/{id}/transactions/?date_from&date_to, whose reply is
{"transactions": {"booked": [...], "pending": [...]}}: amounts are signed
strings ("-12.50", money out negative), read as exact Decimals; a transaction's
id is its internalTransactionId, else transactionId, else entryReference, else
(pending items often have none) the ledger's fingerprint of what it says.

Banks allow as few as 4 calls a day per account to each of transactions,
balances and details; the worker keeps count in Redis (sync/budget.py) and
refuses rather than spend a call the bank would refuse. A 429 from the API
is a RateLimitedError retried after the reset its rate-limit headers name.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, Final

import httpx

from worker_financial.ledger.entries import NewTransaction
from worker_financial.sync.budget import CallBudget
from worker_financial.sync.errors import ProviderError, ProviderNotConfiguredError
from worker_financial.sync.http import account_limit_spent, decimal_of, json_of, path_segment, refuse
from worker_financial.sync.provider import ProviderAccount, ReportedBalance

NAME: Final = "gocardless"
DEFAULT_BASE_URL: Final = "https://bankaccountdata.gocardless.com"
# A token is renewed this long before the API would refuse it.
_EARLY_S: Final = 30.0
# The balance reconciliation prefers, best first (GoCardless's balanceType values).
_BALANCE_PREFERENCE: Final = (
    "closingBooked",
    "interimBooked",
    "expected",
    "interimAvailable",
    "openingBooked",
    "closingAvailable",
    "forwardAvailable",
    "nonInvoiced",
)


@dataclass(frozen=True, slots=True)
class GoCardlessSettings:
    """How to reach GoCardless: its base URL and the worker's secrets (None: not configured)."""

    secret_id: str | None = None
    secret_key: str | None = None
    base_url: str = DEFAULT_BASE_URL
    # Calls a day per account and endpoint the worker allows itself (banks allow as few as 4).
    daily_calls: int = 4
    timeout_s: float = 30.0

    def __repr__(self) -> str:  # never print the secrets
        return f"GoCardlessSettings(base_url={self.base_url!r}, daily_calls={self.daily_calls})"

    @property
    def configured(self) -> bool:
        return bool(self.secret_id and self.secret_key)


@dataclass(frozen=True, slots=True)
class Requisition:
    """A bank link: its status (CR created, LN linked, EX expired, ...), the accounts it linked and
    the link to send the person to."""

    id: str
    status: str
    accounts: list[str]
    link: str


def _date(value: object) -> date | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise ValueError(f"not a date: {value!r}") from None


def _text(value: object) -> str:
    if isinstance(value, list):
        return " ".join(" ".join(str(v).split()) for v in value if v)
    return " ".join(str(value).split()) if value else ""


def transaction_of(item: dict[str, Any], booked: bool, fallback_date: date) -> NewTransaction:
    """One GoCardless transaction as the ledger keeps it (ValueError when it cannot be read)."""
    money = item.get("transactionAmount")
    if not isinstance(money, dict):
        raise ValueError("a transaction without transactionAmount")
    amount = decimal_of(money.get("amount"), "transactionAmount.amount")
    currency = str(money.get("currency") or "").upper()
    if len(currency) != 3:
        raise ValueError(f"transactionAmount.currency is not a currency: {money.get('currency')!r}")
    value_date = _date(item.get("valueDate")) or _date(item.get("valueDateTime"))
    booking_date = (
        _date(item.get("bookingDate")) or _date(item.get("bookingDateTime")) or value_date or fallback_date
    )
    # Money out goes to the creditor, money in comes from the debtor.
    names = ("creditorName", "debtorName") if amount < 0 else ("debtorName", "creditorName")
    payee = next((_text(item[n]) for n in names if item.get(n)), "")
    description = next(
        (
            _text(item[n])
            for n in (
                "remittanceInformationUnstructured",
                "remittanceInformationUnstructuredArray",
                "remittanceInformationStructured",
                "remittanceInformationStructuredArray",
                "additionalInformation",
            )
            if item.get(n)
        ),
        "",
    )
    identity = next(
        (str(item[n]) for n in ("internalTransactionId", "transactionId", "entryReference") if item.get(n)),
        None,
    )
    return NewTransaction(
        booking_date=booking_date,
        amount=amount,
        currency=currency,
        payee=payee or description,
        description=description,
        value_date=value_date,
        booked=booked,
        provider_transaction_id=identity,
    )


def transactions_of(body: Any, fallback_date: date) -> list[NewTransaction]:
    """Every transaction of a transactions reply, booked first, then pending."""
    listing = body.get("transactions") if isinstance(body, dict) else None
    if not isinstance(listing, dict):
        raise ProviderError("HTTP 200 from gocardless: the reply holds no `transactions` object")
    out: list[NewTransaction] = []
    for kind, booked in (("booked", True), ("pending", False)):
        items = listing.get(kind) or []
        if not isinstance(items, list):
            raise ProviderError(f"HTTP 200 from gocardless: transactions.{kind} is not a list")
        for number, item in enumerate(items):
            try:
                out.append(transaction_of(item, booked, fallback_date))
            except (ValueError, TypeError, AttributeError) as exc:
                raise ProviderError(
                    f"HTTP 200 from gocardless: transactions.{kind}[{number}]: {exc}"
                ) from None
    return out


class _Tokens:
    """The access and refresh tokens and when each expires (monotonic seconds)."""

    def __init__(self) -> None:
        self.access: str | None = None
        self.access_until = 0.0
        self.refresh: str | None = None
        self.refresh_until = 0.0


class GoCardlessProvider:
    """A GoCardless Bank Account Data v2 client that keeps its tokens fresh and its calls counted."""

    def __init__(
        self, settings: GoCardlessSettings, budget: CallBudget, http: httpx.AsyncClient | None = None
    ) -> None:
        self._settings = settings
        # The account's bank allowance (shared in Redis by every worker process).
        self.budget = budget
        self._http = http or httpx.AsyncClient(
            base_url=settings.base_url.rstrip("/"),
            timeout=settings.timeout_s,
            headers={"Accept": "application/json"},
        )
        self._tokens = _Tokens()
        self._renewing = asyncio.Lock()

    @property
    def name(self) -> str:
        return NAME

    async def aclose(self) -> None:
        await self._http.aclose()

    # -- tokens -------------------------------------------------------------------------------------
    async def _access_token(self, stale: str | None = None) -> str:
        """A valid access token; `stale` is one the API just refused (it is renewed, not reused)."""
        async with self._renewing:
            tokens = self._tokens
            now = time.monotonic()
            if tokens.access and tokens.access != stale and now < tokens.access_until:
                return tokens.access
            if tokens.refresh and now < tokens.refresh_until:
                reply = await self._http.post("/api/v2/token/refresh/", json={"refresh": tokens.refresh})
                if reply.status_code != 401:  # a refused refresh token: fall back to the secrets
                    refuse(reply, NAME)
                    body = json_of(reply, NAME)
                    return self._keep(body, now, with_refresh=False)
            if not self._settings.configured:
                raise ProviderNotConfiguredError(
                    "gocardless is not configured: set GOCARDLESS_SECRET_ID and GOCARDLESS_SECRET_KEY"
                )
            reply = await self._http.post(
                "/api/v2/token/new/",
                json={"secret_id": self._settings.secret_id, "secret_key": self._settings.secret_key},
            )
            refuse(reply, NAME)
            return self._keep(json_of(reply, NAME), now, with_refresh=True)

    def _keep(self, body: Any, now: float, *, with_refresh: bool) -> str:
        try:
            access = str(body["access"])
            self._tokens.access_until = now + float(body["access_expires"]) - _EARLY_S
            if with_refresh:
                self._tokens.refresh = str(body["refresh"])
                self._tokens.refresh_until = now + float(body["refresh_expires"]) - _EARLY_S
        except (KeyError, TypeError, ValueError):
            raise ProviderError("HTTP 200 from gocardless: the token reply lacks its fields") from None
        self._tokens.access = access
        return access

    async def _call(
        self,
        method: str,
        path: str,
        *,
        account: str | None = None,
        scope: str | None = None,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        """One API call with a valid token (renewed once on a 401), counted against the account's
        allowance when `scope` names a bank-limited endpoint; its JSON reply."""
        counted = (account, scope) if account is not None and scope is not None else None
        if counted:
            await self.budget.spend(*counted)
        try:
            token = await self._access_token()
            reply = await self._http.request(
                method, path, params=params, json=body, headers={"Authorization": f"Bearer {token}"}
            )
            if reply.status_code == 401:
                token = await self._access_token(stale=token)
                reply = await self._http.request(
                    method, path, params=params, json=body, headers={"Authorization": f"Bearer {token}"}
                )
        except BaseException:
            if counted:
                await self.budget.give_back(*counted)
            raise
        if counted:
            # GoCardless counts successful calls only; when it says none is left, none is here either.
            await self.budget.settle(*counted, reply.is_success, account_limit_spent(reply.headers))
        refuse(reply, NAME, account)
        return json_of(reply, NAME)

    # -- requisitions ------------------------------------------------------------------------------
    async def create_requisition(self, institution_id: str, redirect: str, reference: str) -> Requisition:
        """A new bank link for `institution_id`; send the person to its `link`."""
        body = await self._call(
            "POST",
            "/api/v2/requisitions/",
            body={"institution_id": institution_id, "redirect": redirect, "reference": reference},
        )
        return _requisition(body)

    async def requisition(self, requisition_id: str) -> Requisition:
        return _requisition(await self._call("GET", f"/api/v2/requisitions/{path_segment(requisition_id)}/"))

    # -- accounts ----------------------------------------------------------------------------------
    async def account(self, external_id: str) -> ProviderAccount:
        """The account's currency and name (GET accounts/{id}/ to know it exists, which costs no
        bank call, then accounts/{id}/details/, which does)."""
        await self._call("GET", _account_path(external_id), account=external_id)
        body = await self._call(
            "GET", _account_path(external_id, "details"), account=external_id, scope="details"
        )
        details = body.get("account") if isinstance(body, dict) else None
        if not isinstance(details, dict) or not details.get("currency"):
            raise ProviderError("HTTP 200 from gocardless: account details without a currency")
        name = details.get("name") or details.get("ownerName") or details.get("iban") or external_id
        return ProviderAccount(external_id, str(details["currency"]).upper(), str(name))

    async def transactions(
        self, external_id: str, date_from: date | None, date_to: date | None
    ) -> list[NewTransaction]:
        params = {}
        if date_from is not None:
            params["date_from"] = date_from.isoformat()
        if date_to is not None:
            params["date_to"] = date_to.isoformat()
        body = await self._call(
            "GET",
            _account_path(external_id, "transactions"),
            account=external_id,
            scope="transactions",
            params=params,
        )
        return transactions_of(body, date_to or datetime.now(UTC).date())

    async def reported_balance(self, external_id: str) -> ReportedBalance:
        """The account's balance by the first kind of _BALANCE_PREFERENCE the bank reports."""
        body = await self._call(
            "GET", _account_path(external_id, "balances"), account=external_id, scope="balances"
        )
        balances = body.get("balances") if isinstance(body, dict) else None
        if not isinstance(balances, list) or not balances:
            raise ProviderError("HTTP 200 from gocardless: the account reports no balance")

        def rank(entry: Any) -> int:
            kind = entry.get("balanceType") if isinstance(entry, dict) else None
            known = kind in _BALANCE_PREFERENCE
            return _BALANCE_PREFERENCE.index(kind) if known else len(_BALANCE_PREFERENCE)

        best = min(balances, key=rank)
        try:
            money = best["balanceAmount"]
            return ReportedBalance(
                amount=decimal_of(money["amount"], "balanceAmount.amount"),
                currency=str(money["currency"]).upper(),
                reference_date=_date(best.get("referenceDate")),
                kind=str(best.get("balanceType") or ""),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ProviderError(f"HTTP 200 from gocardless: a balance cannot be read: {exc}") from None


def _account_path(account_id: str, endpoint: str = "") -> str:
    """/api/v2/accounts/{id}/ (metadata) or /api/v2/accounts/{id}/{endpoint}/."""
    return f"/api/v2/accounts/{path_segment(account_id)}/" + (f"{endpoint}/" if endpoint else "")


def _requisition(body: Any) -> Requisition:
    try:
        return Requisition(
            id=str(body["id"]),
            status=str(body.get("status") or ""),
            accounts=[str(a) for a in body.get("accounts") or []],
            link=str(body.get("link") or ""),
        )
    except (KeyError, TypeError, AttributeError):
        raise ProviderError("HTTP 200 from gocardless: a requisition without its id") from None
