"""jobmesh's queue benchmark, run beside BullMQ and the raw Redis floor on the same Redis.

    python -m bench --redis redis://127.0.0.1:6379/0 [--n 20000] [--concurrency 100]
                    [--latency-jobs 200] [--rounds 3] [--skip-bullmq] [--skip-redis-benchmark]
                    [--grpc] [--profile]
    python -m bench trading [--quick] ...   trading_svc over gRPC (see bench/trading.py)
    python -m bench auth [--quick] ...      RPC/s with and without authentication (see bench/auth.py)

It copies the structure of `../shared/bench/bullmq/bullmq_bench.js` (one
process: bulk enqueue with no worker, drain with one worker, then single adds
5 ms apart with the worker running) and prints a table of jobmesh's figures
beside BullMQ's (run in the same invocation) and redis-benchmark's, with
ratios, then one JSON line with every figure.

Honest windows: every drain, jobmesh's and BullMQ's, is timed from the first
handler start to the last *finish* (jobmesh: the N-th acknowledgement in Redis;
BullMQ: the N-th `completed` event, BullMQ's `drain_to_last_completed_jobs_s`),
and only figures of the same window are divided into a ratio. The
first-start-to-last-start window (BullMQ's `drain_jobs_s`) is kept as the
"start window" row. Besides the QueueManager path (add_jobs, create_worker) it
measures the public taskiq path: a `JobBroker` task sent with `kiq` and run by
`JobReceiver`, with results kept as JobBroker keeps them by default.

Rounds (3 by default) alternate who goes first (round 1 jobmesh, round 2
BullMQ, ...); figures are medians over the rounds. It uses a queue prefix of
its own (`bench-<pid>`), refuses a prefix that already holds keys, and deletes
every key under it afterwards (result-backend keys `<prefix>:result:<id>` too).
"""

import mesh  # noqa: F401  (first: it turns gRPC's fork handlers off before grpc loads)
