"""Mutating RPCs answer a retry with the same `request_id` with their first answer.

The first answer is kept in Redis (keys.idempotency_key, IDEMPOTENCY_TTL_S) as
serialized protobuf. Operations that must not run twice even when two retries
race are idempotent underneath too (enqueue derives its job id from the
request id, so the second add is a de-duplicated no-op).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast

import redis.asyncio as aioredis
from google.protobuf.message import Message

from queue_system.errors import FieldViolation, InvalidArgumentError
from queue_system.keys import IDEMPOTENCY_TTL_S, idempotency_key

M = TypeVar("M", bound=Message)
MAX_REQUEST_ID = 128


def check_request_id(request_id: str, field: str = "request_id") -> None:
    if len(request_id) > MAX_REQUEST_ID or any(c.isspace() for c in request_id):
        raise InvalidArgumentError(
            [FieldViolation(field, f"must be at most {MAX_REQUEST_ID} characters without whitespace")]
        )


def job_id_for(request_id: str, index: int = 0) -> str:
    """A job id derived from a request id: a retried add finds the job the first add made."""
    digest = hashlib.sha256(f"{request_id}#{index}".encode()).hexdigest()[:24]
    return f"r{digest}"


async def first_answer(
    client: aioredis.Redis,
    *,
    prefix: str,
    scope: str,
    request_id: str,
    response_type: type[M],
    compute: Callable[[], Awaitable[M]],
) -> M:
    """`compute()` once per (scope, request_id); later calls return its stored answer."""
    if not request_id:
        return await compute()
    check_request_id(request_id)
    key = idempotency_key(prefix, scope, request_id)
    stored = cast(bytes | None, await client.get(key))
    if stored is not None:
        return response_type.FromString(stored)
    answer = await compute()
    # NX: when two retries raced, the answer stored first is the one every later retry sees;
    # storing it and reading back what is stored go in one round trip
    data = answer.SerializeToString()
    pipe = client.pipeline(transaction=False)
    pipe.set(key, data, ex=IDEMPOTENCY_TTL_S, nx=True)
    pipe.get(key)
    _, stored = await pipe.execute()
    if stored is None or stored == data:
        return answer
    return response_type.FromString(cast(bytes, stored))


class Idempotent:
    """`first_answer` bound to one service's Redis, prefix and scope (e.g. "QueueService")."""

    def __init__(self, client: aioredis.Redis, prefix: str, scope: str) -> None:
        self.client = client
        self.prefix = prefix
        self.scope = scope

    async def __call__(
        self, rpc: str, request_id: str, response_type: type[M], compute: Callable[[], Awaitable[M]]
    ) -> M:
        if not request_id:  # nothing to look up or keep: no scope to build, no call of first_answer
            return await compute()
        return await first_answer(
            self.client,
            prefix=self.prefix,
            scope=f"{self.scope}.{rpc}",
            request_id=request_id,
            response_type=response_type,
            compute=compute,
        )
