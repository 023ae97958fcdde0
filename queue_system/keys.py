"""Every Redis key, stream, field, channel and TTL jobmesh uses, named in one place.

This module is the contract between Python and the Lua scripts: `scripts.py`
renders the constants below into the prelude every script starts with, so a
name, a lane number or the order of the keys a script receives is written
here once and read by both languages.

All keys of one queue share the hash tag `{<queue>}`, so each queue lives in
one Redis Cluster slot and every script of the queue touches one slot.
`prefix` is QUEUE_PREFIX (default "jobmesh").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

# Lanes of a queue, highest priority first; each is one Redis Stream. Scripts
# and the Delivery records number them from 1 (critical) to 4 (low).
LANES: Final = ("critical", "high", "normal", "low")
# The lane of NORMAL (and unspecified) priority: its ready jobs are "waiting",
# the other lanes' are "prioritized" (BullMQ's counts).
NORMAL_LANE: Final = 3
# JobState name of a ready job in each lane (1-based in Lua, as LANES).
READY_STATE: Final = tuple(
    "JOB_STATE_WAITING" if n == NORMAL_LANE else "JOB_STATE_PRIORITIZED" for n in range(1, len(LANES) + 1)
)

# Consumer group every worker of a queue joins (one group per lane stream).
WORKER_GROUP: Final = "workers"
# Consumer group dlq-svc reads each queue's dead-letter stream with.
DEAD_LETTER_GROUP: Final = "dlq-svc"

# Entries kept in a queue's capped event stream (XADD MAXLEN ~): what a
# resumed watch can still replay. A watcher further behind is told so.
EVENTS_MAXLEN: Final = 10_000

# How long a mutating RPC's first answer is kept for a call repeated with the same request_id.
IDEMPOTENCY_TTL_S: Final = 24 * 3600

# An add's receipt is kept for the producer's ride-out bound plus this margin:
# a producer that lost the reply of an add and sends it again meanwhile gets
# the first add's outcome, and no job twice.
RECEIPT_MARGIN_MS: Final = 60_000

# How long a job's final outcome is kept for taskiq's `wait_result()` (results.py).
RESULT_TTL_S: Final = 3600

# Groups (JobOptions.group_key): a job's place in its group's line (`QueueKeys.group`) is the
# score lane * GROUP_LANE_SPAN + its add counter (JobField.GROUP_SEQ), so the line is in lane
# order (critical first), then in add order. Lines of delayed members score from
# GROUP_DELAYED_SCORE up: they wait for their time, not for the group's turn. Scores stay
# below 2^53, so Lua's doubles and Redis's scores hold them exactly.
GROUP_LANE_SPAN: Final = 10**15
GROUP_DELAYED_SCORE: Final = (len(LANES) + 1) * GROUP_LANE_SPAN
# Superseded jobs (`QueueKeys.superseded`) kept per queue: the newest this many, for this long.
SUPERSEDED_KEEP: Final = 10_000
SUPERSEDED_AGE_MS: Final = 7 * 24 * 3600 * 1000

# The seed's pub/sub channels keep their exact names, unprefixed: catalog.py names them.


class JobField:
    """Fields of a job's hash (`QueueKeys.job(id)`): the job's whole record."""

    ENVELOPE: Final = "envelope"  # the jobmesh.jobs.v1.Job envelope as added (binary protobuf)
    LANE: Final = "lane"  # lane number, 1 (critical) .. 4 (low)
    ADDED_AT: Final = "added_at"  # ms epoch of the add
    DUE_AT: Final = "due_at"  # ms epoch a delayed job (or a retry waiting out its backoff) is due
    ORDER: Final = "order"  # the queue's add counter when it was delayed: ties of due_at keep add order
    ENTRY_ID: Final = "entry_id"  # its entry in its lane stream, while ready or running
    STARTED_AT: Final = "started_at"  # ms epoch its latest delivery started (BullMQ's processedOn)
    FINISHED_AT: Final = "finished_at"  # ms epoch it completed or failed for good
    WORKER: Final = "worker"  # consumer that runs it, or ran it last
    ATTEMPTS_MADE: Final = "attempts_made"  # attempts that finished (failed or succeeded), all series
    SERIES_START: Final = "series_start"  # attempts_made when its current series began (a redrive starts one)
    DELIVERIES: Final = "deliveries"  # times it was handed to a worker, all series
    ATTEMPT_DELIVERIES: Final = "attempt_deliveries"  # deliveries of the current attempt (poison check)
    PROGRESS: Final = "progress"  # 0..100 as the handler last reported
    RESULT: Final = "result"  # the handler's returned message as google.protobuf.Any bytes
    FAILED_REASON: Final = "failed_reason"  # why it failed for good, as a sentence
    DEAD_LETTER_REASON: Final = "dead_letter_reason"  # the DeadLetterReason name it left with
    REDRIVES: Final = "redrives"  # times an operator put it back on its queue
    GROUP: Final = "group"  # its JobOptions.group_key, when it has one (absent: no group)
    # the queue's add counter when it joined its group's line (added, or redriven): its place in
    # the line among jobs of its lane; a retry keeps it, so a retried job goes first again
    GROUP_SEQ: Final = "group_seq"
    SUPERSEDED_BY: Final = "superseded_by"  # id of the newer job of its group that replaced it unstarted
    ERROR_PREFIX: Final = "error:"  # error:<attempt> -> jobmesh.jobs.v1.AttemptError bytes
    REDELIVERY_PREFIX: Final = "redelivery:"  # redelivery:<delivery> -> "<lost holder>|<idle ms>|<ms epoch>"


class EntryField:
    """Fields of stream entries."""

    LANE_JOB: Final = "job"  # a lane entry holds only the job id
    EVENT_SERVICE: Final = "service"  # event stream: emitting service
    EVENT_NAME: Final = "event"  # event stream: event name (it implies the data's type)
    EVENT_DATA: Final = "data"  # event stream: proto3 JSON of the event's data, without "@type"
    DEAD_JOB_ID: Final = "job_id"  # dead-letter stream: the job's id
    DEAD_RECORD: Final = "failed_job"  # dead-letter stream: jobmesh.jobs.v1.FailedJob bytes


class StatsField:
    """Fields of a queue's all-time counters (`QueueKeys.stats`)."""

    DEAD_LETTERED: Final = "dead_lettered"  # jobs the queue sent to its dead-letter stream


@dataclass(frozen=True, slots=True)
class QueueKeys:
    """The keys of one queue."""

    prefix: str
    queue: str

    @property
    def base(self) -> str:
        """`<prefix>:{<queue>}`: the hash-tagged root of every key below."""
        return f"{self.prefix}:{{{self.queue}}}"

    def lane(self, lane: str) -> str:
        """Stream of ready jobs of one priority lane; entries hold only the job id."""
        return f"{self.base}:lane:{lane}"

    def lane_number(self, number: int) -> str:
        """Stream of lane `number` (1 = critical ... 4 = low), as the scripts number them."""
        return self.lane(LANES[number - 1])

    @property
    def lanes(self) -> tuple[str, ...]:
        """Every lane stream, highest priority first."""
        return tuple(self.lane(lane) for lane in LANES)

    @property
    def job_prefix(self) -> str:
        """Prefix of job hashes (`<job_prefix><id>`, fields in JobField)."""
        return f"{self.base}:job:"

    def job(self, job_id: str) -> str:
        return f"{self.job_prefix}{job_id}"

    @property
    def delayed(self) -> str:
        """ZSET job id -> due time (ms): delayed jobs and retries waiting out their backoff."""
        return f"{self.base}:delayed"

    @property
    def completed(self) -> str:
        """ZSET job id -> finish time (ms) of completed jobs kept by retention."""
        return f"{self.base}:completed"

    @property
    def failed(self) -> str:
        """ZSET job id -> finish time (ms) of failed jobs kept by retention."""
        return f"{self.base}:failed"

    @property
    def paused(self) -> str:
        """String; present while the queue is paused for every worker."""
        return f"{self.base}:paused"

    @property
    def limiter(self) -> str:
        """ZSET of recent job starts (sliding-window rate limit shared by all workers)."""
        return f"{self.base}:limiter"

    @property
    def events(self) -> str:
        """Capped stream of this queue's events (EVENTS_MAXLEN; entry fields in EntryField)."""
        return f"{self.base}:events"

    @property
    def dead_letters(self) -> str:
        """Durable stream of FailedJob records, read by dlq-svc (DEAD_LETTER_GROUP); never trimmed."""
        return f"{self.base}:dead"

    @property
    def ready(self) -> str:
        """Hash lane number -> jobs ready in that lane (acknowledged entries are trimmed
        in bulk, so XLEN does not count ready jobs)."""
        return f"{self.base}:ready"

    @property
    def workers(self) -> str:
        """ZSET consumer name -> last lease renewal (ms): live workers of the queue."""
        return f"{self.base}:workers"

    @property
    def stats(self) -> str:
        """Hash of all-time counters (fields in StatsField)."""
        return f"{self.base}:stats"

    @property
    def add_order(self) -> str:
        """Counter of adds that need an order: JobField.ORDER of delayed jobs (jobs due in the same
        ms start in add order) and JobField.GROUP_SEQ of grouped ones (their place in line)."""
        return f"{self.base}:order"

    @property
    def groups(self) -> str:
        """Hash group key -> id of the one job of that group in a lane (ready or running): the
        group's slot. Its other jobs wait in the group's line (`group`) until the holder finishes,
        fails for good, is retried or removed; a holder taken over from a dead worker keeps it."""
        return f"{self.base}:groups"

    @property
    def group_prefix(self) -> str:
        """Prefix of group lines (`<group_prefix><group key>`, see `group`)."""
        return f"{self.base}:group:"

    def group(self, group_key: str) -> str:
        """ZSET job id -> place (GROUP_LANE_SPAN): the jobs of one group that wait for its slot,
        and (from GROUP_DELAYED_SCORE) its delayed jobs, which join the line when due."""
        return f"{self.group_prefix}{group_key}"

    @property
    def grouped(self) -> str:
        """ZSET job id -> place in its group's line (GROUP_LANE_SPAN) of every due job, of every
        group, that waits for its group's slot: what counts and lists of waiting jobs add to the
        lanes' ready jobs."""
        return f"{self.base}:grouped"

    @property
    def superseded(self) -> str:
        """ZSET job id -> ms it was superseded (JobField.SUPERSEDED_BY), within SUPERSEDED_KEEP
        and SUPERSEDED_AGE_MS; the records stay readable (JOB_STATE_SUPERSEDED) until then."""
        return f"{self.base}:superseded"

    @property
    def receipts(self) -> str:
        """Prefix of add receipts (`<receipts><token>` -> the add's outcome, RECEIPT_TTL_MS)."""
        return f"{self.base}:receipt:"


# The keys every queue script receives, in KEYS order (the prelude names each
# after its QueueKeys property: KEY.delayed, ...; lanes also as LANE_KEYS[n]).
SCRIPT_KEYS: Final = (
    "lane_critical",
    "lane_high",
    "lane_normal",
    "lane_low",
    "delayed",
    "completed",
    "failed",
    "paused",
    "limiter",
    "events",
    "dead_letters",
    "ready",
    "workers",
    "stats",
    "add_order",
    "groups",
    "grouped",
    "superseded",
)

# The arguments every queue script receives first, in ARGV order; the
# operation's own arguments follow (the prelude gathers them in ARG).
SCRIPT_HEAD: Final = ("job_prefix", "receipts", "consumer", "service", "channel", "queue", "group_prefix")


def script_keys(keys: QueueKeys) -> list[str]:
    """The KEYS of every script of one queue, in SCRIPT_KEYS order."""
    lanes = dict(zip(SCRIPT_KEYS[: len(LANES)], keys.lanes, strict=True))
    return [lanes[name] if name in lanes else getattr(keys, name) for name in SCRIPT_KEYS]


class StrategyField:
    """Fields of a strategy's hash (`StrategyKeys.strategy(id)`), written by trading-svc."""

    RECORD: Final = "record"  # the jobmesh.trading.v1.Strategy as it stands (binary protobuf)
    VERSION: Final = "version"  # its version: every change compares it first, then bumps it
    AWAITING: Final = "awaiting"  # JSON list of the "<queue>/<job id>" its current state waits for


@dataclass(frozen=True, slots=True)
class StrategyKeys:
    """The keys of trading-svc's strategies. One hash tag for them all: a transition writes a
    strategy, its history and the indexes in one script, in one Cluster slot."""

    prefix: str

    @property
    def base(self) -> str:
        return f"{self.prefix}:{{strategies}}"

    def strategy(self, strategy_id: str) -> str:
        """Hash of one strategy (fields in StrategyField)."""
        return f"{self.base}:strategy:{strategy_id}"

    def history(self, strategy_id: str) -> str:
        """Stream of its transitions (field `transition`: StrategyTransition bytes), never trimmed:
        the audit trail that replays to its current state; WatchStrategy follows it."""
        return f"{self.base}:history:{strategy_id}"

    @property
    def all(self) -> str:
        """ZSET strategy id -> deploy time (ms): every strategy."""
        return f"{self.base}:all"

    def by(self, dimension: str, value: str) -> str:
        """ZSET strategy id -> deploy time of the strategies with `dimension` (state, name, exchange,
        symbol) equal to `value`: what ListStrategies filters on."""
        return f"{self.base}:by:{dimension}:{value}"

    def request(self, request_id: str) -> str:
        """String: the strategy a DeployStrategy request_id made (IDEMPOTENCY_TTL_S)."""
        return f"{self.base}:request:{request_id}"

    @property
    def changes(self) -> str:
        """Capped stream (EVENTS_MAXLEN) of every strategy's transitions, for watchers of them all."""
        return f"{self.base}:changes"


# --- dlq-svc's dead letters (dlq_svc/store.py, dlq_svc/alerts.py) --------------------------------

# Consumer group dlq-svc's pattern analysis reads every queue's event stream with (each
# failure event reaches one dlq-svc process; the group remembers where it stopped).
PATTERN_GROUP: Final = "dlq-patterns"
# Pattern alerts kept in the alert stream (XADD MAXLEN ~): what a resumed WatchAlerts can replay.
ALERTS_MAXLEN: Final = 10_000


class DeadLetterField:
    """Fields of a dead letter's hash (`DeadLetterKeys.record(id)`): its record, and the values its
    indexes are keyed by, so the scripts can move it between indexes without decoding protobuf."""

    RECORD: Final = "record"  # the jobmesh.dlq.v1.DeadLetter as it stands (binary protobuf)
    QUEUE: Final = "queue"  # source queue
    CATEGORY: Final = "category"  # ErrorCategory name
    RISK: Final = "risk"  # RiskLevel name
    STATUS: Final = "status"  # DeadLetterStatus name: what every change compares first
    STRATEGY: Final = "strategy"  # strategy id ('' for none)
    RECEIVED_AT: Final = "received_at"  # ms epoch it was captured: its score in every index
    JOB: Final = "job"  # "<queue>/<job id>": its field in `DeadLetterKeys.retries`


@dataclass(frozen=True, slots=True)
class DeadLetterKeys:
    """The keys of dlq-svc. One hash tag, `{dlq}`: a capture, a decision or a trim writes a dead
    letter, its indexes and its counters in one script, in one Cluster slot."""

    prefix: str

    @property
    def base(self) -> str:
        return f"{self.prefix}:{{dlq}}"

    def record(self, dead_letter_id: str) -> str:
        """Hash of one dead letter (fields in DeadLetterField). Its id is "<queue>/<entry id>" of
        the record in the queue's dead-letter stream, so a record read twice is stored once."""
        return f"{self.base}:dead:{dead_letter_id}"

    @property
    def all(self) -> str:
        """ZSET dead letter id -> received ms: every dead letter kept (retention trims it oldest first)."""
        return f"{self.base}:all"

    def by(self, dimension: str, value: str) -> str:
        """ZSET dead letter id -> received ms of those whose `dimension` (queue, category, risk,
        status, strategy) is `value`: what ListDeadLetters and RedriveDeadLetters filter on."""
        return f"{self.base}:by:{dimension}:{value}"

    def of_job(self, job_id: str) -> str:
        """ZSET dead letter id -> received ms of one job's dead letters (a job put back and failing
        again has several): how an alert's sample job ids name their dead letters. Trimmed with
        each dead letter, so it is gone with the job's last one."""
        return f"{self.base}:job:{job_id}"

    @property
    def counts(self) -> str:
        """Hash "<dimension>:<value>" (and "total") -> dead letters kept: GetDeadLetterStats."""
        return f"{self.base}:counts"

    @property
    def due(self) -> str:
        """ZSET dead letter id -> retry_at ms of every RETRY_SCHEDULED dead letter (the scheduler's list)."""
        return f"{self.base}:due"

    @property
    def retries(self) -> str:
        """Hash "<queue>/<job id>" -> times dlq-svc put that job back, over all its dead letters
        (the bound of automatic retries counts it); trimmed with the job's last dead letter."""
        return f"{self.base}:retries"

    @property
    def redrive_turn(self) -> str:
        """String: ms epoch from which the next bulk redrive may schedule (RedriveDeadLetters keeps
        its rate across calls)."""
        return f"{self.base}:redrive-turn"

    @property
    def alerts(self) -> str:
        """Capped stream (ALERTS_MAXLEN) of pattern alerts (field `alert`: PatternAlert bytes),
        what WatchAlerts follows."""
        return f"{self.base}:alerts"

    @property
    def active_alerts(self) -> str:
        """ZSET PatternAlert bytes -> ms it stops being active: the alerts a new WatchAlerts gets first."""
        return f"{self.base}:active-alerts"

    def alert_raised(self, pattern: str, subject: str) -> str:
        """String, set NX with the pattern's cooldown: one alert per pattern and subject (fingerprint
        or queue) per cooldown, however many failures or dlq-svc processes see it."""
        return f"{self.base}:raised:{pattern}:{subject}"


def result_prefix(prefix: str) -> str:
    """taskiq-redis's result backend keys: `<prefix>:result:<job id>` (and `...__progress`), RESULT_TTL_S."""
    return f"{prefix}:result"


def idempotency_key(prefix: str, scope: str, request_id: str) -> str:
    """First answer of a mutating RPC, kept IDEMPOTENCY_TTL_S for calls repeated with its request_id."""
    return f"{prefix}:idem:{scope}:{request_id}"


# --- the audit trail and the per-caller limit (service_kit/auth.py) -----------------------------

# Entries kept in the audit stream (XADD MAXLEN ~): about a week of a busy operator's mutating
# calls; older entries are trimmed, the system:events copies are the long-term record.
AUDIT_MAXLEN: Final = 100_000


class AuditField:
    """Fields of one audit stream entry (`audit_stream`): plain strings, so `redis-cli XRANGE`
    shows them as they are. The entry id is when the call ended (ms epoch)."""

    CALLER: Final = "caller"  # token name, "cert:<subject>" for an mTLS caller, "" if unauthenticated
    METHOD: Final = "method"  # full method name, "/jobmesh.queue.v1.QueueService/DrainQueue"
    REQUEST_ID: Final = "request_id"  # the request's request_id ("" when it has none)
    CODE: Final = "code"  # the gRPC status code name the caller got: OK, PERMISSION_DENIED, ...
    REQUEST: Final = "request"  # the request as proto3 JSON, cut at 1000 characters
    SERVICE: Final = "service"  # the jobmesh service that served it (trading-svc, ...)
    PEER: Final = "peer"  # the caller's address as gRPC saw it
    DURATION_MS: Final = "duration_ms"  # how long the call took


def audit_stream(prefix: str) -> str:
    """Capped stream (AUDIT_MAXLEN) of every call of a state-changing RPC on any service, refusals
    included (fields in AuditField): who did what, when, and how it ended. Read it over gRPC
    with AuditService.ListAuditEntries (admins; queue_system/audit_trail.py), or with
    `XRANGE <prefix>:audit - +` or `XREVRANGE <prefix>:audit + - COUNT 20`."""
    return f"{prefix}:audit"


def caller_rate(prefix: str, caller: str) -> str:
    """String: the theoretical arrival time (µs, Redis's clock) of `caller`'s next state-changing
    call, GCRA (lua/caller_rate.lua): the per-caller limit every service process counts together.
    Expires once the caller's bucket is full again. `caller` is the audit name, never a token."""
    return f"{prefix}:ratelimit:{caller}"


# --- the paper exchange (worker_trading/paper_exchange.py) --------------------------------------


class PaperAccountField:
    """Fields of a paper account's hash (`PaperExchangeKeys.account`)."""

    # Orders the account has placed, on every venue. Each order's step compares it first and
    # then bumps it (optimistic concurrency), and the order's id ends with its new value.
    VERSION: Final = "version"


class PaperPositionField:
    """Fields of a paper position's hash (`PaperExchangeKeys.position(...)`); amounts are decimal strings."""

    CONTRACTS: Final = "contracts"  # base amount held; "0" once closed (the hash stays, for its PnL)
    COST: Final = "cost"  # quote paid for the contracts still held, fees excluded: the exact cost basis
    ENTRY_PRICE: Final = "entry_price"  # average fill price of the buys since it opened
    REALIZED_PNL: Final = "realized_pnl"  # quote realized since it opened, net of every fee paid on it
    OPENED_AT: Final = "opened_at"  # ms epoch of the fill that opened it (from flat)
    UPDATED_AT: Final = "updated_at"  # ms epoch of its latest fill


class PaperOrderField:
    """Fields of a paper order's hash (`PaperExchangeKeys.order(...)`): ccxt's unified order, flat."""

    ID: Final = "id"  # the venue's id: "<account>-<account version after the order>"
    CLIENT_ORDER_ID: Final = "client_order_id"  # the caller's id (from the job): unique per account and venue
    TIMESTAMP: Final = "timestamp"  # ms epoch it was placed (and, being immediate, filled)
    SYMBOL: Final = "symbol"  # "BTC/USD"
    TYPE: Final = "type"  # "market" or "limit"
    SIDE: Final = "side"  # "buy" or "sell"
    PRICE: Final = "price"  # a limit's price; "" for a market order
    AVERAGE: Final = "average"  # cost / filled; "" when nothing filled
    AMOUNT: Final = "amount"  # base amount asked for (remaining = amount - filled is not stored)
    FILLED: Final = "filled"  # base amount filled
    COST: Final = "cost"  # quote amount of the fill, fees excluded
    STATUS: Final = "status"  # "closed" (all filled) or "canceled" (the rest expired: no order rests)
    FEE_COST: Final = "fee_cost"  # the taker fee charged, in FEE_CURRENCY
    FEE_CURRENCY: Final = "fee_currency"  # always the quote currency on paper
    FEE_RATE: Final = "fee_rate"  # the venue's taker fee, a fraction (0.001 is 0.10 %)
    FENCE: Final = "fence"  # "<job id>|<token>" of the attempt that placed it: the audit of who did


@dataclass(frozen=True, slots=True)
class PaperExchangeKeys:
    """The keys of one paper account, on every venue. One hash tag per account, `{paper:<account>}`:
    an order's step reads and writes its fence, wallet, position and record in one script, in one
    Cluster slot."""

    prefix: str
    account: str

    @property
    def base(self) -> str:
        """`<prefix>:{paper:<account>}`: the hash-tagged root of every key below."""
        return f"{self.prefix}:{{paper:{self.account}}}"

    @property
    def record(self) -> str:
        """Hash of the account itself (fields in PaperAccountField)."""
        return f"{self.base}:account"

    @property
    def fences(self) -> str:
        """Hash job id -> the highest fencing token an order step of that job has shown; an attempt
        with a lower token is fenced off (its job was taken over by another worker)."""
        return f"{self.base}:fences"

    def wallet(self, exchange: str) -> str:
        """Hash currency -> free amount (decimal string) on one venue; written with the starting
        balance on first use. Paper orders fill or expire at once, so nothing is ever `used`."""
        return f"{self.base}:wallet:{exchange}"

    def position(self, exchange: str, symbol: str) -> str:
        """Hash of the account's long position in `symbol` on one venue (fields in PaperPositionField)."""
        return f"{self.base}:position:{exchange}:{symbol}"

    def order(self, exchange: str, client_order_id: str) -> str:
        """Hash of the order placed with `client_order_id` on one venue (fields in PaperOrderField):
        its existence is what makes a repeated create_order return the first order."""
        return f"{self.base}:order:{exchange}:{client_order_id}"


# --- worker-financial's calls to banks (worker_financial/sync/budget.py) ------------------------

# How long a bank's per-account call allowance lasts once its first call is made: GoCardless
# Bank Account Data lets a bank allow as few as 4 calls a day per account and endpoint.
BANK_CALL_WINDOW_MS: Final = 24 * 3600 * 1000


def bank_calls_key(prefix: str, provider: str, account: str, scope: str) -> str:
    """String counter of the calls made to `provider` for one account and endpoint `scope`
    (transactions, balances, details) in the current window: set to 0 with BANK_CALL_WINDOW_MS
    by the window's first call, counted up before each call, given back when the bank did not
    count the call, and set to the limit (until the bank's reset) when the bank says none is left.
    One hash tag per provider and account."""
    return f"{prefix}:{{bank:{provider}:{account}}}:calls:{scope}"


# --- cron schedules (queue_system/scheduler.py) --------------------------------------------------

# Runs (fired, skipped, missed, triggered) each schedule keeps for ListSchedules, newest first.
SCHEDULE_RUNS_KEPT: Final = 20
# How late a slot may still fire after it was missed (the worker was down): the default catch-up
# window. A missed slot older than this is counted as missed and never runs.
DEFAULT_CATCHUP_WINDOW_S: Final = 3600


class ScheduleField:
    """Fields of a schedule's hash (`ScheduleKeys.schedule(name)`), shared by every replica."""

    CURSOR: Final = "cursor"  # ms epoch (UTC) of the newest slot decided (fired, skipped, missed, paused)
    PAUSED: Final = "paused"  # "1" while paused (absent: running)
    NOTE: Final = "note"  # the note of the latest pause or resume
    FIRED: Final = "fired"  # slots that sent their jobs
    SKIPPED: Final = "skipped"  # slots skipped by the overlap policy (a run still going)
    MISSED: Final = "missed"  # slots older than the catch-up window when a scheduler first saw them
    PAUSED_SLOTS: Final = "paused_slots"  # slots that passed while the schedule was paused
    LAST_FIRED: Final = "last_fired"  # ms epoch of the newest slot that fired
    LAST_FIRED_AT: Final = "last_fired_at"  # ms epoch a scheduler decided it
    SENT: Final = "sent"  # ms epoch of the newest fired slot whose jobs were all sent


@dataclass(frozen=True, slots=True)
class ScheduleKeys:
    """The keys of the cron schedules. One hash tag, `{schedules}`: a slot's decision moves its
    schedule's cursor, counts and runs in one script, in one Cluster slot."""

    prefix: str

    @property
    def base(self) -> str:
        return f"{self.prefix}:{{schedules}}"

    def schedule(self, name: str) -> str:
        """Hash of one schedule's shared state (fields in ScheduleField); kept for good."""
        return f"{self.base}:schedule:{name}"

    def runs(self, name: str) -> str:
        """List of its latest runs, newest first (JSON records, SCHEDULE_RUNS_KEPT of them)."""
        return f"{self.base}:runs:{name}"

    @property
    def added(self) -> str:
        """Prefix of taskiq-redis's ListRedisScheduleSource keys: schedules added at run time
        (`<added>:cron` list of their ids, `<added>:data:<id>` each ScheduledTask as JSON)."""
        return f"{self.base}:added"
