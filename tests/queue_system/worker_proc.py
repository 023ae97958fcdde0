"""A real worker process for fault tests: run with a queue, kill it for real.

    python tests/queue_system/worker_proc.py --redis URL --prefix P [--concurrency N]

It serves the `categorization` queue with one task whose behaviour each job
names in `transaction_ids[0]`:
  sleep:<ms>  sleep, then finish          kill   SIGKILL this process
  fail        raise (to exercise retries)
  hold:<name> finish once the test sets `<prefix>:test:release:<name>`
Every start and finish is recorded in Redis (`<prefix>:test:starts` /
`:done`, entries `job_id|ms|pid|run`, `run` a nonce of the handler call), so
a test can tell what ran, where and how often. A job with a group key is also
recorded in its group's list (`<prefix>:test:group:<key>`, entries
`start|job_id|pid|run` and `end|job_id|pid|run`): each push completes before
the handler goes on, so the list is the order things happened in.
Prints `READY` once consuming; SIGTERM stops it gracefully.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import time

from jobmesh.jobs.v1 import financial_jobs_pb2
from queue_system.broker import JobBroker
from queue_system.catalog import CATEGORIZATION
from queue_system.connection import connect
from queue_system.context import JobContext
from queue_system.receiver import JobReceiver
from queue_system.settings import load


async def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--redis", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--concurrency", type=int, default=50)
    args = ap.parse_args()
    settings = load({**os.environ, "REDIS_URL": args.redis, "QUEUE_PREFIX": args.prefix})
    recorder = connect(args.redis)  # rides out a Redis restart, like the queue's own client
    starts, done = f"{args.prefix}:test:starts", f"{args.prefix}:test:done"
    broker = JobBroker(settings, service="test-worker", queues=[CATEGORIZATION])

    async def released(key: str) -> None:
        """Wait until the test sets `key` (polled: every delivery of a held job waits for the same key)."""
        while True:
            if await recorder.exists(key):
                return
            await asyncio.sleep(0.02)

    @broker.task(queue=CATEGORIZATION)
    async def categorize(job: financial_jobs_pb2.CategorizationJob, ctx: JobContext) -> None:
        # a nonce per run: a record sent twice by a client riding out an outage counts once
        run = os.urandom(4).hex()
        group = ctx.job.options.group_key
        group_list = f"{args.prefix}:test:group:{group}"
        if group:
            await recorder.rpush(group_list, f"start|{ctx.job_id}|{os.getpid()}|{run}")
        await recorder.rpush(starts, f"{ctx.job_id}|{int(time.time() * 1000)}|{os.getpid()}|{run}")
        action = job.transaction_ids[0]
        if action == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if action == "fail":
            raise RuntimeError("asked to fail")
        if action.startswith("sleep:"):
            await asyncio.sleep(int(action[6:]) / 1000)
        if action.startswith("hold:"):
            await released(f"{args.prefix}:test:release:{action[5:]}")
        if group:
            await recorder.rpush(group_list, f"end|{ctx.job_id}|{os.getpid()}|{run}")
        await recorder.rpush(done, f"{ctx.job_id}|{int(time.time() * 1000)}|{os.getpid()}|{run}")

    await broker.startup()
    receiver = JobReceiver(broker, concurrency=args.concurrency)
    await receiver.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print("READY", receiver.workers[0].consumer, flush=True)
    await stop.wait()
    await receiver.stop()
    await broker.shutdown()
    await recorder.aclose()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
