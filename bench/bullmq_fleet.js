// BullMQ's side of bench.fleet: eight queues served by two worker processes, and delayed jobs due together.
// Run by bench/fleet.py with NODE_PATH at the BullMQ 6.7 install of ../shared/bench/bullmq/run.sh.
//
//   node bullmq_fleet.js worker  --redis URL --prefix P --queues 8 --concurrency C
//       8 Workers (autorun off) of concurrency C; says {"ready":true}; on "go" (stdin) runs them;
//       says {"started":k} as handler starts add up; on SIGTERM closes them and says
//       {"starts":[[queue index, seq, start ms, due ms], ...]} then {"stopped":true}.
//   node bullmq_fleet.js produce --redis URL --prefix P --queues 8 --n N
//       N jobs, round robin over the queues, addBulk 1,000 at a time; says {"added":N}.
//   node bullmq_fleet.js delayed --redis URL --prefix P --queues 8 --n N --due-ms T --spread-ms S
//       N jobs, job i due at T + i*S/N (epoch ms), each added with delay = due - now; says {"added":N}.
//   node bullmq_fleet.js clean   --redis URL --prefix P --queues 8
//       obliterates the queues.
// A job's due time is the one BullMQ schedules it by: job.timestamp + job.opts.delay.
const { Queue, Worker } = require('bullmq');

const arg = (name, dflt) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : dflt;
};
const url = new URL(arg('redis', 'redis://127.0.0.1:6379/0'));
const connection = {
  host: url.hostname, port: Number(url.port || 6379),
  db: Number((url.pathname || '/0').slice(1) || 0),
  password: url.password || undefined, maxRetriesPerRequest: null,
};
const PREFIX = arg('prefix', 'bullmq-fleet');
const QUEUES = Number(arg('queues', 8));
const names = Array.from({ length: QUEUES }, (_, i) => `fleet-${i}`);
const PAD = 'x'.repeat(120);
// wall-clock ms, the clock job.timestamp (so a delayed job's due time) is read from
const now = () => Date.now();
const say = (o) => process.stdout.write(`${JSON.stringify(o)}\n`);
const queueOpts = { connection, prefix: PREFIX, defaultJobOptions: { removeOnComplete: true } };

async function worker() {
  const conc = Number(arg('concurrency', 100));
  const starts = [];
  let said = 0;
  const workers = names.map((name, qi) => new Worker(name, async (job) => {
    const t = now();
    starts.push([qi, job.data.seq, t, job.opts.delay ? job.timestamp + job.opts.delay : 0]);
  }, { connection, prefix: PREFIX, concurrency: conc, autorun: false }));
  await Promise.all(workers.map((w) => w.waitUntilReady()));
  const progress = setInterval(() => {
    if (starts.length !== said) { said = starts.length; say({ started: said }); }
  }, 20);
  let stopping = false;
  process.on('SIGTERM', async () => {
    if (stopping) return;
    stopping = true;
    clearInterval(progress);
    await Promise.all(workers.map((w) => w.close()));
    // a piped stdout is written asynchronously: exit only once the last line is out
    process.stdout.write(`${JSON.stringify({ starts })}\n${JSON.stringify({ stopped: true })}\n`,
      () => process.exit(0));
  });
  process.stdin.setEncoding('utf8');
  let buf = '';
  process.stdin.on('data', (chunk) => {
    buf += chunk;
    if (buf.includes('go\n')) { buf = ''; workers.forEach((w) => { w.run().catch((e) => console.error(e)); }); }
  });
  say({ ready: true });
}

async function produce(delayed) {
  const n = Number(arg('n', 8000));
  const dueMs = Number(arg('due-ms', 0));
  const spread = Number(arg('spread-ms', 1000));
  const queues = names.map((name) => new Queue(name, queueOpts));
  await Promise.all(queues.map((q) => q.waitUntilReady()));
  for (let s = 0; s < n; s += 1000) {
    const byQueue = names.map(() => []);
    for (let i = s; i < Math.min(n, s + 1000); i++) {
      const job = { name: 'noop', data: { seq: i, pad: PAD } };
      if (delayed) job.opts = { delay: Math.max(1, Math.round(dueMs + (i * spread) / n - Date.now())) };
      byQueue[i % QUEUES].push(job);
    }
    await Promise.all(queues.map((q, qi) => (byQueue[qi].length ? q.addBulk(byQueue[qi]) : null)));
  }
  await Promise.all(queues.map((q) => q.close()));
  say({ added: n });
}

async function clean() {
  for (const name of names) {
    const q = new Queue(name, queueOpts);
    await q.obliterate({ force: true });
    await q.close();
  }
  say({ cleaned: names.length });
}

const role = process.argv[2];
const run = { worker, produce: () => produce(false), delayed: () => produce(true), clean }[role];
if (!run) { console.error(`unknown role ${role}`); process.exit(2); }
run().then(() => { if (role !== 'worker') process.exit(0); }).catch((e) => { console.error(e); process.exit(1); });
