"""jobmesh's queue benchmark, run beside BullMQ and the raw Redis floor on the same Redis.

    python -m bench --redis redis://127.0.0.1:6379/0 [--n 20000] [--concurrency 100]
                    [--latency-jobs 200] [--skip-bullmq] [--skip-redis-benchmark]
                    [--grpc] [--profile]

It copies the structure of `../shared/bench/bullmq/bullmq_bench.js` (one
process: bulk enqueue with no worker, drain with one worker, then single adds
5 ms apart with the worker running) and prints a table of jobmesh's figures
beside BullMQ's (run in the same invocation) and redis-benchmark's, with
ratios, then one JSON line with every figure. It uses a queue prefix of its
own (`bench-<pid>`), refuses a prefix that already holds keys, and deletes
every key under it afterwards.
"""
