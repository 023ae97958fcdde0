// BullMQ's side of jobmesh's backlog phase (bench/backlog.py): cost as the backlog grows.
//   node bullmq_backlog.js --redis URL --prefix P --sizes 10000,100000 [--drain 10000]
//     [--concurrency 100] [--probes 200] [--gap-ms 5]
// Run with BullMQ resolvable (NODE_PATH or cwd = the baseline's install, ~/.cache/jobmesh-bullmq-baseline).
// Per size, in one process and on one queue (prefix P, its own queue name):
//   1. fill: `size` jobs {i, t, pad: 'x' * 120} by addBulk in batches of 1,000, no worker running;
//      bytes per waiting job = MEMORY USAGE (SAMPLES 0) of every key of the queue, summed, / size
//      (Redis used_memory after - before is reported too: on a shared Redis it moves with others' keys).
//   2. drain: one worker at the given concurrency, no-op processor, picks from the full backlog;
//      drain_jobs_s = `drain` jobs / (1st processor start .. drain-th start) (start window); the
//      worker keeps draining while probes are sent.
//   3. pick latency: from the first start, while backlog jobs still wait, `probes` single adds `gap-ms` apart with lifo: true
//      (BullMQ's way to put a job at the head of the wait list; jobs *with* a priority go after
//      the un-prioritised backlog in BullMQ); enqueue->start p50/p99 of the probes that were
//      added while backlog jobs were still waiting (probes_in_backlog says how many).
//   4. the worker closes and every key of the queue is deleted (SCAN + UNLINK: faster than
//      obliterate on a million jobs).
// Prints one JSON line per size, then {"done": true}.
const { Queue, Worker } = require('bullmq');
const IORedis = require('ioredis');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const url = new URL(arg('redis', process.env.REDIS_URL || 'redis://127.0.0.1:6379/0'));
const connection = {
  host: url.hostname, port: Number(url.port || 6379),
  db: Number((url.pathname || '/0').slice(1) || 0),
  password: url.password || undefined, maxRetriesPerRequest: null,
};
const PREFIX = arg('prefix', `bullmq-backlog-${process.pid}`);
const SIZES = arg('sizes', '10000').split(',').map(Number);
const DRAIN = Number(arg('drain', 10000));
const CONC = Number(arg('concurrency', 100));
const PROBES = Number(arg('probes', 200));
const GAP_MS = Number(arg('gap-ms', 5));
const PAD = 'x'.repeat(120);
const now = () => performance.timeOrigin + performance.now(); // ms
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const usedMemory = async (client) => {
  const text = await client.info('memory');
  return Number(/used_memory:(\d+)/.exec(text)[1]);
};

async function deleteKeys(client, match) {
  let cursor = '0';
  let deleted = 0;
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    if (keys.length) deleted += await client.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

// (keys, bytes) under `match`: MEMORY USAGE ... SAMPLES 0 of every key, summed (as bench/backlog.py does)
async function keysMemory(client, match) {
  let cursor = '0';
  let keys = 0, total = 0;
  do {
    const [next, found] = await client.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    if (found.length) {
      const pipe = client.pipeline();
      for (const k of found) pipe.memory('USAGE', k, 'SAMPLES', '0');
      for (const [err, v] of await pipe.exec()) if (!err) total += Number(v || 0);
      keys += found.length;
    }
  } while (cursor !== '0');
  return [keys, total];
}

const pct = (sorted, p) => (sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] : null);

async function one(client, size, index) {
  const qname = `backlog-${index}`;
  const queue = new Queue(qname, { connection, prefix: PREFIX, defaultJobOptions: { removeOnComplete: true } });
  await queue.waitUntilReady();
  const before = await usedMemory(client);
  let t0 = now();
  for (let s = 0; s < size; s += 1000) {
    const jobs = [];
    for (let i = s; i < Math.min(size, s + 1000); i++) jobs.push({ name: 'noop', data: { i, t: now(), pad: PAD } });
    await queue.addBulk(jobs);
  }
  const fillS = (now() - t0) / 1000;
  const after = await usedMemory(client);
  const [keys, keyBytes] = await keysMemory(client, `${PREFIX}:${qname}:*`);

  const drainN = Math.min(DRAIN, size);
  let first = null, last = null, done = 0, resolveDrain;
  const drained = new Promise((r) => { resolveDrain = r; });
  const latencies = [];
  const worker = new Worker(qname, async (job) => {
    const t = now();
    if (job.data.probe) { if (job.data.inBacklog) latencies.push(t - job.data.t); return; }
    if (first === null) first = t;
    done += 1;
    if (done === drainN) { last = t; resolveDrain(); }
  }, { connection, prefix: PREFIX, concurrency: CONC });
  // probes: only while backlog jobs still wait (done + CONC < size), so each one jumps a backlog
  let sent = 0;
  const probing = (async () => {
    while (first === null) await sleep(1);
    while (sent < PROBES && done + CONC < size) {
      await queue.add('probe', { probe: true, inBacklog: true, t: now(), pad: PAD }, { lifo: true });
      sent += 1;
      await sleep(GAP_MS);
    }
  })();
  await drained;
  await probing;
  while (latencies.length < sent) await sleep(5);
  await worker.close(true);
  await queue.close();
  const deleted = await deleteKeys(client, `${PREFIX}:${qname}:*`);
  latencies.sort((a, b) => a - b);
  return {
    size, drain_jobs: drainN, fill_jobs_s: Math.round(size / fillS),
    used_memory_delta: after - before, used_memory_per_job: +((after - before) / size).toFixed(1),
    keys, bytes_per_waiting_job: +(keyBytes / size).toFixed(1),
    drain_jobs_s: Math.round(drainN / ((last - first) / 1000)),
    probes_in_backlog: latencies.length,
    pick_p50_ms: pct(latencies, 0.5) === null ? null : +pct(latencies, 0.5).toFixed(3),
    pick_p99_ms: pct(latencies, 0.99) === null ? null : +pct(latencies, 0.99).toFixed(3),
    keys_deleted: deleted,
  };
}

async function main() {
  const version = require('bullmq/package.json').version;
  const client = new IORedis(connection);
  // warm-up: BullMQ's scripts are loaded (and cached by Redis) before the first measure
  const warm = new Queue('backlog-warmup', { connection, prefix: PREFIX });
  await warm.addBulk(Array.from({ length: 1000 }, (_, i) => ({ name: 'noop', data: { i, t: now(), pad: PAD } })));
  await warm.close();
  await deleteKeys(client, `${PREFIX}:backlog-warmup:*`);
  for (let i = 0; i < SIZES.length; i++) {
    const row = await one(client, SIZES[i], i);
    console.log(JSON.stringify({ system: 'bullmq', version, ...row }));
  }
  console.log(JSON.stringify({ done: true }));
  process.exit(0);
}
main().catch((e) => { console.error(e); process.exit(1); });
