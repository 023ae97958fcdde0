"""A per-account allowance of calls to a bank, kept in Redis and shared by every worker process.

GoCardless Bank Account Data passes on each bank's own limit, which can be as
low as 4 calls a day per account and endpoint (transactions, balances,
details); a call past it is answered 429 and the account stays locked until
the bank's window ends. So the worker counts its calls itself and refuses the
fifth with a RateLimitedError (retried when the window ends) instead of
spending a call the bank would refuse anyway. The `api` provider has an
allowance too when FINANCIAL_API_DAILY_CALLS sets one (a service in front of
such banks has the same limits). The count is one Redis key per
provider, account and endpoint (queue_system.keys.bank_calls_key), so two
replicas share one allowance; a call the bank did not count (GoCardless counts
successful calls only) is given back, and when the bank says none is left the
key is set to the limit until its reset.
"""

from __future__ import annotations

import math
from typing import Final

import redis.asyncio as aioredis

from queue_system.keys import BANK_CALL_WINDOW_MS, bank_calls_key
from worker_financial.sync.errors import RateLimitedError

DEFAULT_DAILY_CALLS: Final = 4


class CallBudget:
    """The calls left to one provider, per account and endpoint, in a window of BANK_CALL_WINDOW_MS."""

    def __init__(self, client: aioredis.Redis, prefix: str, provider: str, limit: int) -> None:
        self._client = client
        self._prefix = prefix
        self._provider = provider
        self.limit = limit

    def _key(self, account: str, scope: str) -> str:
        return bank_calls_key(self._prefix, self._provider, account, scope)

    async def spend(self, account: str, scope: str) -> None:
        """Take one call from the allowance, or raise RateLimitedError (with the wait until the
        window ends) when none is left; nothing is taken then."""
        key = self._key(account, scope)
        async with self._client.pipeline(transaction=True) as pipe:
            pipe.set(key, 0, nx=True, px=BANK_CALL_WINDOW_MS)
            pipe.incr(key)
            pipe.pttl(key)
            _, used, ttl_ms = await pipe.execute()
        if int(used) > self.limit:
            await self._client.decr(key)
            wait = max(1, math.ceil(int(ttl_ms) / 1000)) if int(ttl_ms) > 0 else 1
            raise RateLimitedError(
                f"{self._provider} account {account}: the {self.limit} {scope} calls a day its bank allows "
                f"are spent; refused here rather than at the bank, next one in {wait} s",
                retry_after=wait,
            )

    async def give_back(self, account: str, scope: str) -> None:
        """Return a call the bank did not count (it failed). Should the window have ended meanwhile,
        DECR has made a fresh key without a TTL: it goes, rather than count forever."""
        key = self._key(account, scope)
        if int(await self._client.decr(key)) < 0:
            await self._client.delete(key)

    async def settle(self, account: str, scope: str, answered: bool, spent_s: float | None) -> None:
        """After the provider answered a counted call: when it says no call is left for `spent_s`
        seconds, none is here either; a call it refused otherwise (`answered` False) is given back,
        as providers count the calls they serve."""
        if spent_s is not None:
            await self.exhaust(account, scope, spent_s)
        elif not answered:
            await self.give_back(account, scope)

    async def exhaust(self, account: str, scope: str, reset_s: float) -> None:
        """The bank says no call is left until `reset_s` seconds from now: none is, here too."""
        await self._client.set(self._key(account, scope), self.limit, px=max(1000, int(reset_s * 1000)))

    async def used(self, account: str, scope: str) -> int:
        """Calls taken in the current window."""
        return int(await self._client.get(self._key(account, scope)) or 0)
