"""One page of ids kept in sorted-set indexes: newest first, passing every filter, resumable.

trading-svc lists strategies and dlq-svc lists dead letters the same way: every
record's id sits in an "all" sorted set and in one set per value of each filter
dimension (score = when it arrived). A page walks the smallest single set that
must hold every match and checks the rest in one script (lua/index_page.lua),
looking at no more than PAGE_SCAN_BUDGET ids per call: a rare filter answers
with what it found and a token, never with a scan of the whole keyspace.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib.resources import files
from typing import Any, Final, cast

import redis.asyncio as aioredis

from queue_system.tokens import decode_token, encode_token

# Most ids one call looks at before answering with what it found.
PAGE_SCAN_BUDGET: Final = 20_000


class IndexPages:
    """Pages of the ids in `all_key`, filtered by the index sets a caller names."""

    def __init__(self, client: aioredis.Redis, all_key: str) -> None:
        self.client = client
        self.all_key = all_key
        self._page = client.register_script((files("queue_system") / "lua" / "index_page.lua").read_text())

    async def page(
        self, filters: Sequence[Sequence[str]], page_size: int, page_token: str = ""
    ) -> tuple[list[str], str]:
        """Ids of one page, newest first, and the next page's token ("" at the end).

        Each filter is the sets an id may be in to pass it (one set, or one per
        accepted value); an id must pass every filter.
        """
        cursor = str(decode_token(page_token, "page_token").get("after", ""))
        walk = self.all_key
        singles = [f[0] for f in filters if len(f) == 1]
        if singles:  # walk the smallest single set there is, check the rest
            sizes = [int(await self.client.zcard(key)) for key in singles]
            walk = singles[sizes.index(min(sizes))]
        keys = [walk, *(key for f in filters for key in f)]
        args: list[Any] = [page_size, cursor, len(filters), *(len(f) for f in filters), PAGE_SCAN_BUDGET]
        reply = cast(list[bytes], await self._page(keys=keys, args=args))
        last, ids = reply[0].decode(), [r.decode() for r in reply[1:]]
        return ids, encode_token({"after": last}) if last else ""
