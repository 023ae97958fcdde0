"""dlq-svc: wires DeadLetterService, capture, the retry scheduler, retention and pattern analysis
into the shared server runner."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from redis.exceptions import RedisError

from dlq_svc import retention
from dlq_svc import settings as dlq_settings
from dlq_svc.alerts import AlertLog, PatternFeed
from dlq_svc.capture import Capture
from dlq_svc.decisions import Decisions
from dlq_svc.patterns import PatternDetector
from dlq_svc.servicers.dead_letter import DeadLetterServicer
from dlq_svc.store import DeadLetterStore
from jobmesh.dlq.v1 import dead_letter_service_pb2, dead_letter_service_pb2_grpc
from queue_system.dead_letters import DeadLetterReader
from queue_system.manager import QueueManager
from queue_system.settings import ConfigError
from queue_system.stream_hub import StreamHub
from service_kit.server import ServedService, ServiceContext, run_service, served

log = logging.getLogger(__name__)


def build(context: ServiceContext, config: dlq_settings.DlqSettings) -> Sequence[ServedService]:
    runtime = context.settings.runtime
    manager = QueueManager(runtime, service=context.spec.name)
    prefix = runtime.queue_prefix
    store = DeadLetterStore(manager.client, prefix)
    queues = list(manager.queues)
    reader = DeadLetterReader(
        manager.client, prefix, queues, manager.consumer, reclaim_ms=runtime.tuning.reclaim_ms
    )
    decisions = Decisions(store, manager, config)
    alerts = AlertLog(manager.client, prefix, config.alert_cooldown_ms)
    detector = PatternDetector(
        threshold=config.recurring_threshold,
        window_ms=config.pattern_window_ms,
        cooldown_ms=config.alert_cooldown_ms,
    )
    feed = PatternFeed(manager.client, prefix, queues, manager.consumer, detector=detector, alerts=alerts)

    async def create_groups() -> None:
        try:
            await manager.initialize()
        except RedisError as exc:  # Redis down at boot: the first add creates them instead
            log.warning("consumer groups not created yet (%s); the first add will", exc)

    async def keep() -> None:
        await retention.run(store, config)

    context.on_startup(create_groups)
    context.run_in_background(Capture(reader, store, config).run)
    context.run_in_background(decisions.run)
    context.run_in_background(keep)
    context.run_in_background(feed.run)
    context.on_shutdown(manager.close)
    # One reader of Redis streams for every WatchAlerts of the process (closed before the client it uses).
    hub = StreamHub(manager.client)
    context.on_startup(hub.start)
    context.on_shutdown(hub.close)
    return [
        served(
            dead_letter_service_pb2,
            "DeadLetterService",
            dead_letter_service_pb2_grpc.add_DeadLetterServiceServicer_to_server,
            DeadLetterServicer(decisions, alerts, hub, config.redrive_per_second),
        ),
    ]


def main() -> None:
    try:
        config = dlq_settings.load()
    except ConfigError as exc:
        print(f"dlq-svc: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
    run_service("dlq_svc", lambda context: build(context, config))
