"""The seed's usage example run by worker-financial as a real process (`python -m worker_financial`)
against the local GoCardless-shaped server: a `gocardless` `incremental` transaction-sync for
`acc_123` with a one-day `dateRange`, answered by `transaction_sync_completed` on `financial:events`
in the seed's shape."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from google.protobuf import json_format

from bench.bank_servers import FakeAccount, FakeGoCardless
from jobmesh.jobs.v1 import envelope_pb2 as env
from queue_system.catalog import FINANCIAL_EVENTS_CHANNEL, TRANSACTION_SYNC
from queue_system.manager import QueueManager
from queue_system.settings import Settings
from tests.service_processes import SPECS, ServiceProcess, wait_for
from tests.worker_financial.sync.banks import money
from worker_financial.ledger.store import Ledger

WITHIN = 90.0  # generous: two busy cores


def rfc3339(moment: datetime) -> str:
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def test_the_seeds_usage_example_publishes_transaction_sync_completed(
    make_settings: Callable[..., Settings], redis_url: str, queue_prefix: str, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    yesterday, today = (now - timedelta(days=1)).date(), now.date()
    async with FakeGoCardless() as bank:
        bank.accounts["acc_123"] = FakeAccount(
            booked=[
                {
                    "transactionId": "B-0",  # before the range: the bank is not asked for it
                    "bookingDate": (today - timedelta(days=5)).isoformat(),
                    "transactionAmount": money("-1.00"),
                    "creditorName": "Early",
                },
                {
                    "transactionId": "B-1",
                    "bookingDate": yesterday.isoformat(),
                    "transactionAmount": money("-42.00"),
                    "creditorName": "Shop",
                },
                {
                    "transactionId": "B-2",
                    "bookingDate": today.isoformat(),
                    "transactionAmount": money("100.00"),
                    "debtorName": "Friend",
                },
            ],
            pending=[
                {"valueDate": today.isoformat(), "transactionAmount": money("-7.25"), "creditorName": "Cafe"}
            ],
        )
        ledger_file = tmp_path / "ledger.db"
        worker = ServiceProcess(
            SPECS["worker_financial"],
            redis_url,
            {
                "QUEUE_PREFIX": queue_prefix,
                "DATABASE_URL": f"sqlite:///{ledger_file}",
                "JOBMESH_DATA_DIR": str(tmp_path),
                "GOCARDLESS_BASE_URL": bank.base_url,
                "GOCARDLESS_SECRET_ID": bank.secret_id,
                "GOCARDLESS_SECRET_KEY": bank.secret_key,
            },
        ).start()
        client = aioredis.Redis.from_url(redis_url)
        events = client.pubsub()
        manager = QueueManager(make_settings(), service="seed-example")
        try:
            await events.subscribe(FINANCIAL_EVENTS_CHANNEL)
            await asyncio.to_thread(wait_for, [worker], "SERVING", 60.0)
            await manager.initialize()
            # the seed's `sync_${Date.now()}`, made unique: financial:events is shared by every test
            job_id = f"sync_{int(now.timestamp() * 1000)}_{queue_prefix}"
            payload = {
                "transactionSync": {
                    "id": job_id,
                    "timestamp": rfc3339(now),
                    "accountId": "acc_123",
                    "provider": "SYNC_PROVIDER_GOCARDLESS",
                    "syncType": "SYNC_TYPE_INCREMENTAL",
                    "dateRange": {"from": rfc3339(now - timedelta(days=1)), "to": rfc3339(now)},
                }
            }
            await manager.add_job(
                TRANSACTION_SYNC,
                json_format.ParseDict(payload, env.JobPayload()),
                env.JobOptions(job_id=job_id),
            )
            event: dict[str, Any] | None = None
            async with asyncio.timeout(WITHIN):
                while event is None:
                    message = await events.get_message(ignore_subscribe_messages=True, timeout=0.5)
                    if message is not None:
                        seen = json.loads(message["data"])
                        if seen["event"] == "transaction_sync_completed" and seen["data"]["jobId"] == job_id:
                            event = seen
        finally:
            await manager.close(grace_s=1)
            await events.aclose()  # type: ignore[no-untyped-call]
            await client.aclose()
            worker.terminate()
            log = worker.log()
            worker.close()
    assert set(event) == {"service", "event", "data", "timestamp"}, log
    assert (event["service"], event["event"]) == ("worker-financial", "transaction_sync_completed")
    # B-1 (yesterday), B-2 and the pending cafe (today): three, all new
    assert {k: event["data"][k] for k in ("accountId", "transactionsProcessed", "newTransactions")} == {
        "accountId": "acc_123",
        "transactionsProcessed": 3,
        "newTransactions": 3,
    }
    datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    asked = [r.query for r in bank.requests if r.path.endswith("/transactions/")]
    assert asked == [{"date_from": yesterday.isoformat(), "date_to": today.isoformat()}]
    assert bank.secret_key not in log and bank.secret_id not in log
    ledger = Ledger(f"sqlite+aiosqlite:///{ledger_file}")
    try:
        kept = [(t.provider_transaction_id, t.booked) for t in await ledger.transactions("acc_123")]
    finally:
        await ledger.close()
    assert kept == [("B-1", True), ("B-2", True), (None, False)]
