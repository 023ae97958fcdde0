"""DeadLetterService over the wire: inspect, retry, discard and redrive dead letters; watch alerts.

Thin: each RPC checks its request's shape (every bad field named, as
INVALID_ARGUMENT with a BadRequest), calls the domain (`dlq_svc.store`,
`decisions`, `alerts`) and encodes the answer. Mutating RPCs answer a call
repeated with the same `request_id` with their first answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any, Final

import grpc

from dlq_svc.alerts import AlertLog
from dlq_svc.decisions import REDRIVE_DEFAULT, REDRIVE_MAX, Decisions
from dlq_svc.store import Filters
from jobmesh.dlq.v1 import alert_pb2
from jobmesh.dlq.v1 import classification_pb2 as cpb
from jobmesh.dlq.v1 import dead_letter_pb2 as dpb
from jobmesh.dlq.v1 import dead_letter_service_pb2 as pb
from jobmesh.dlq.v1 import dead_letter_service_pb2_grpc as pb_grpc
from queue_system.errors import FieldViolation, InvalidArgumentError
from queue_system.options import duration_ms
from queue_system.reads import DEFAULT_PAGE, MAX_PAGE
from queue_system.stream_hub import StreamHub
from queue_system.tokens import page_size_violations
from service_kit.idempotency import Idempotent
from service_kit.watch import watch

Ctx = grpc.aio.ServicerContext[Any, Any]
# Longest delay RetryDeadLetter accepts.
MAX_RETRY_DELAY_MS: Final = 30 * 24 * 3600 * 1000


def _known(value: int, enum: Any, field: str, bad: list[FieldViolation]) -> None:
    if value not in enum.values():
        bad.append(FieldViolation(field, f"must be one of {', '.join(enum.keys())}, got {value}"))


def _id(value: str, bad: list[FieldViolation], field: str = "dead_letter_id") -> None:
    queue, slash, entry = value.partition("/")
    if not value:
        bad.append(FieldViolation(field, "required"))
    elif not (queue and slash and entry):
        bad.append(
            FieldViolation(field, f"must be '<queue>/<entry id>' as ListDeadLetters gives it, got {value!r}")
        )


def _raise(bad: list[FieldViolation]) -> None:
    if bad:
        raise InvalidArgumentError(bad)


class DeadLetterServicer(pb_grpc.DeadLetterServiceServicer):
    """jobmesh.dlq.v1.DeadLetterService over the dead-letter domain of one dlq-svc."""

    def __init__(
        self, decisions: Decisions, alerts: AlertLog, hub: StreamHub, redrive_per_second: int
    ) -> None:
        self.decisions = decisions
        self.hub = hub
        self.store = decisions.store
        self.alerts = alerts
        self.queues = decisions.manager.queues
        self.redrive_per_second = redrive_per_second
        manager = decisions.manager
        self._once = Idempotent(manager.client, manager.settings.queue_prefix, "DeadLetterService")

    def _queue(self, queue: str, bad: list[FieldViolation], field: str = "queue") -> None:
        if queue and queue not in self.queues:
            bad.append(FieldViolation(field, f"unknown queue {queue!r}; one of: {', '.join(self.queues)}"))

    async def GetDeadLetterStats(
        self, request: pb.GetDeadLetterStatsRequest, context: Ctx
    ) -> pb.GetDeadLetterStatsResponse:
        return pb.GetDeadLetterStatsResponse(stats=await self.store.stats())

    async def ListDeadLetters(
        self, request: pb.ListDeadLettersRequest, context: Ctx
    ) -> pb.ListDeadLettersResponse:
        bad: list[FieldViolation] = []
        self._queue(request.queue, bad)
        _known(request.category, cpb.ErrorCategory, "category", bad)
        _known(request.min_risk, cpb.RiskLevel, "min_risk", bad)
        _known(request.status, dpb.DeadLetterStatus, "status", bad)
        bad.extend(page_size_violations(request.page_size, MAX_PAGE))
        _raise(bad)
        risks = tuple(r for r in cpb.RiskLevel.values() if r >= request.min_risk) if request.min_risk else ()
        filters = Filters(request.queue, request.category, risks, request.status, request.strategy_id)
        ids, token = await self.store.page(filters, request.page_size or DEFAULT_PAGE, request.page_token)
        return pb.ListDeadLettersResponse(dead_letters=await self.store.get_many(ids), next_page_token=token)

    async def GetDeadLetter(self, request: pb.GetDeadLetterRequest, context: Ctx) -> pb.GetDeadLetterResponse:
        bad: list[FieldViolation] = []
        _id(request.dead_letter_id, bad)
        _raise(bad)
        return pb.GetDeadLetterResponse(dead_letter=await self.decisions.get(request.dead_letter_id))

    async def RetryDeadLetter(
        self, request: pb.RetryDeadLetterRequest, context: Ctx
    ) -> pb.RetryDeadLetterResponse:
        bad: list[FieldViolation] = []
        _id(request.dead_letter_id, bad)
        delay = duration_ms(request.delay) if request.HasField("delay") else 0
        if request.HasField("delay") and not 0 <= delay <= MAX_RETRY_DELAY_MS:
            bad.append(FieldViolation("delay", f"must be from 0 to 30 days, got {delay} ms"))
        _raise(bad)

        async def retry() -> pb.RetryDeadLetterResponse:
            return pb.RetryDeadLetterResponse(
                dead_letter=await self.decisions.retry(request.dead_letter_id, delay)
            )

        return await self._once("RetryDeadLetter", request.request_id, pb.RetryDeadLetterResponse, retry)

    async def DiscardDeadLetter(
        self, request: pb.DiscardDeadLetterRequest, context: Ctx
    ) -> pb.DiscardDeadLetterResponse:
        bad: list[FieldViolation] = []
        _id(request.dead_letter_id, bad)
        if not request.reason.strip():
            bad.append(FieldViolation("reason", "required: why it may be dropped"))
        _raise(bad)

        async def discard() -> pb.DiscardDeadLetterResponse:
            dropped = await self.decisions.discard(request.dead_letter_id, f"operator: {request.reason}")
            return pb.DiscardDeadLetterResponse(dead_letter=dropped)

        return await self._once(
            "DiscardDeadLetter", request.request_id, pb.DiscardDeadLetterResponse, discard
        )

    async def RedriveDeadLetters(
        self, request: pb.RedriveDeadLettersRequest, context: Ctx
    ) -> pb.RedriveDeadLettersResponse:
        bad: list[FieldViolation] = []
        self._queue(request.queue, bad)
        _known(request.category, cpb.ErrorCategory, "category", bad)
        if request.limit > REDRIVE_MAX:
            bad.append(
                FieldViolation("limit", f"must be from 1 to {REDRIVE_MAX} (0 means {REDRIVE_DEFAULT})")
            )
        if request.per_second > 10_000:
            bad.append(FieldViolation("per_second", "must be at most 10000 (0 means the configured rate)"))
        _raise(bad)

        async def redrive() -> pb.RedriveDeadLettersResponse:
            done = await self.decisions.redrive(
                Filters(request.queue, request.category),
                request.limit or REDRIVE_DEFAULT,
                request.per_second or self.redrive_per_second,
            )
            return pb.RedriveDeadLettersResponse(
                redriven=len(done.dead_letter_ids), dead_letter_ids=done.dead_letter_ids
            )

        return await self._once(
            "RedriveDeadLetters", request.request_id, pb.RedriveDeadLettersResponse, redrive
        )

    async def WatchAlerts(
        self, request: pb.WatchAlertsRequest, context: Ctx
    ) -> AsyncIterator[pb.WatchAlertsResponse]:
        bad: list[FieldViolation] = []
        _known(request.min_severity, cpb.RiskLevel, "min_severity", bad)
        _raise(bad)
        floor = request.min_severity

        async def snapshot() -> pb.AlertSnapshot:
            active = [a for a in await self.alerts.active() if a.severity >= floor]
            return pb.AlertSnapshot(active_alerts=active, stats=await self.store.stats())

        def first(token: str, snap: pb.AlertSnapshot) -> pb.WatchAlertsResponse:
            return pb.WatchAlertsResponse(resume_token=token, snapshot=snap)

        def then(token: str, alert: alert_pb2.PatternAlert) -> pb.WatchAlertsResponse:
            return pb.WatchAlertsResponse(resume_token=token, alert=alert)

        async for response in watch(
            self.hub,
            self.alerts.follow(floor),
            request.resume_token,
            snapshot=snapshot,
            first=first,
            then=then,
        ):
            yield response
