"""The strategy runner: deploys strategies and drives each through the FSM by the results of its jobs.

What each state does (the seed's flow):
- ANALYZING enqueues the analysis the strategy needs: risk-analysis (a VaR of
  the position it may take) and, for `arbitrage`, arbitrage-detection;
- PREPARING checks those results against the strategy's riskLimits, here, at
  once: within them -> EXECUTING; a breach -> ERROR (the reason in the
  history) -> IDLE;
- EXECUTING runs strategy-execution; its orders and profit become metadata;
- MONITORING runs position-monitoring until the position's exit condition
  fires, or the checks allowed run out (the last check exits the position
  at market, a time exit), then COMPLETED;
- STOPPING cancels what has not started, lets what is running finish, then
  exits any position the strategy may hold (a position-monitoring job with
  `exitNow`) and moves on to COMPLETED. A position that cannot be exited
  is an ERROR, with the reason, never a silent COMPLETED.

Every move is read -> decide (fsm) -> commit if unchanged (store) -> enqueue
the new state's jobs. Jobs get ids derived from the strategy, its version and
their kind, so enqueueing them again (a retry after a lost race, a restarted
trading-svc reconciling) never adds a job twice. A job of a strategy that has
moved on (stopped, failed) is no longer awaited, so its result changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

from google.protobuf import json_format
from google.protobuf.struct_pb2 import Struct

from jobmesh.events.v1 import trading_events_pb2 as te
from jobmesh.jobs.v1 import envelope_pb2 as env
from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from jobmesh.jobs.v1 import trading_results_pb2 as tr
from jobmesh.queue.v1 import queue_pb2
from jobmesh.trading.v1 import strategy_pb2 as spb
from queue_system.catalog import (
    ARBITRAGE_DETECTION,
    POSITION_MONITORING,
    RISK_ANALYSIS,
    STRATEGY_EXECUTION,
    TRADING_EVENTS_CHANNEL,
)
from queue_system.decimals import amount_of
from queue_system.envelope import JobRequest
from queue_system.errors import FailedPreconditionError, NotFoundError, UnavailableError
from queue_system.manager import QueueManager
from trading_svc import fsm
from trading_svc.fsm import StrategyMachine, state_enum
from trading_svc.store import Stored, StrategyStore, event_json

log = logging.getLogger(__name__)

# How often a move may lose a race for the same strategy before giving up (then UNAVAILABLE).
MOVE_TRIES: Final = 20
# Position checks a strategy makes before it completes without its exit condition firing, and
# the time between two; a strategy's `parameters.monitorChecks` / `monitorEverySeconds` override.
MONITOR_CHECKS: Final = 5
MONITOR_EVERY_S: Final = 0.5
PROGRESS: Final = {
    fsm.IDLE: 0.0,
    fsm.ANALYZING: 10.0,
    fsm.PREPARING: 30.0,
    fsm.EXECUTING: 50.0,
    fsm.MONITORING: 75.0,
    fsm.COMPLETED: 100.0,
}
# States a strategy only passes through (the runner moves it on at once), and how long one may
# stay in them before it is taken to have been left there by a crash and is moved on by advance().
PASSING: Final = (fsm.PREPARING, fsm.ERROR)
PASSING_S: Final = 5.0
# Strategies one emergency stop stops at once.
STOP_AT_ONCE: Final = 32
# Kept long enough that a repeated add of the same job id finds it (and adds nothing).
KEEP: Final = env.Retention(keep=env.KeepJobs())
KEEP.keep.age.FromSeconds(24 * 3600)
DRY_RUN: Final = "test"


def new_strategy_id() -> str:
    """The seed's shape: strategy_<ms>_<6 random characters>."""
    return f"strategy_{time.time_ns() // 1_000_000}_{os.urandom(3).hex()}"


def _job_id(s: spb.Strategy, kind: str, n: int = 0) -> str:
    return f"{s.strategy_id}-v{s.version}-{kind}{n or ''}"


def _options(s: spb.Strategy, job_id: str, delay_ms: int = 0) -> env.JobOptions:
    """A strategy's jobs: one at a time per queue (the group is the strategy), and each newer
    one replaces any of the strategy's still waiting there (a newer signal supersedes)."""
    opts = env.JobOptions(
        job_id=job_id,
        attempts=3,
        remove_on_complete=KEEP,
        remove_on_fail=KEEP,
        group_key=s.strategy_id,
        supersede_waiting=True,
    )
    opts.backoff.type = env.BACKOFF_TYPE_EXPONENTIAL
    opts.backoff.delay.FromMilliseconds(500)
    if delay_ms:
        opts.delay.FromMilliseconds(delay_ms)
    return opts


def _params(s: spb.Strategy, **more: Any) -> Struct:
    out = Struct()
    out.update(
        {
            "strategyId": s.strategy_id,
            "exchange": s.exchange,
            "symbol": s.symbol,
            **plain(s.parameters),
            **more,
        }
    )
    return out


def jobs_for(s: spb.Strategy, checks_done: int = 0) -> list[JobRequest]:
    """The jobs a strategy's state runs: a pure function of the strategy, so it can be asked again."""
    state = fsm.state_name(s.state)
    dry = s.strategy_name == DRY_RUN
    if state == fsm.ANALYZING:
        # the position it may take; the dry run, which takes none, analyses a nominal 1
        limit = str(amount_of(s.risk_limits.max_position_size)) if s.HasField("risk_limits") else "1"
        risk = tj.RiskAnalysisJob(
            analysis_type=tj.ANALYSIS_TYPE_VAR,
            scope=tj.RiskScope(timeframe=str(plain(s.parameters).get("timeframe", "1h"))),
            parameters=_params(s, portfolioValue=limit, confidence=0.99, horizonDays=1, dryRun=dry),
        )
        risk.scope.portfolio_id = s.strategy_id
        jobs = [
            JobRequest(RISK_ANALYSIS, env.JobPayload(risk_analysis=risk), _options(s, _job_id(s, "risk")))
        ]
        if s.strategy_name == "arbitrage":
            params = plain(s.parameters)
            arb = tj.ArbitrageDetectionJob(
                exchange_pair=[str(x) for x in params.get("exchanges", [s.exchange])],
                symbol=s.symbol,
                min_profit_percentage=float(params.get("minProfit", 0.1)),
            )
            jobs.append(
                JobRequest(
                    ARBITRAGE_DETECTION,
                    env.JobPayload(arbitrage_detection=arb),
                    _options(s, _job_id(s, "arb")),
                )
            )
        return jobs
    if state == fsm.EXECUTING:
        run = tj.StrategyExecutionJob(
            strategy_name=s.strategy_name,
            exchange=s.exchange,
            symbol=s.symbol,
            parameters=s.parameters,
            strategy_id=s.strategy_id,
        )
        if s.HasField("risk_limits"):
            run.risk_limits.CopyFrom(s.risk_limits)
        else:  # the dry run's: nothing is ever placed
            run.risk_limits.max_position_size.number_value = 1
            run.risk_limits.max_loss.number_value = 1
        return [
            JobRequest(
                STRATEGY_EXECUTION, env.JobPayload(strategy_execution=run), _options(s, _job_id(s, "exec"))
            )
        ]
    if state == fsm.MONITORING:
        exchange, symbol, leg = _open_leg(s)
        watch = tj.PositionMonitoringJob(
            position_id=s.strategy_id,
            exchange=exchange,
            symbol=symbol,
            monitoring_type=tj.MONITORING_TYPE_TRAILING_STOP,
            parameters=_params(
                s, dryRun=dry, check=checks_done + 1, exitNow=checks_done + 1 >= monitor_checks(s), **leg
            ),
        )
        stoploss = _stoploss(s)
        watch.thresholds["stoploss"].string_value = str(stoploss)
        watch.thresholds["trailingStopPositive"].string_value = str(stoploss / 2)
        delay = round(float(plain(s.parameters).get("monitorEverySeconds", MONITOR_EVERY_S)) * 1000)
        delay = delay if checks_done else 0
        job_id = _job_id(s, "watch", checks_done + 1)
        return [
            JobRequest(
                POSITION_MONITORING, env.JobPayload(position_monitoring=watch), _options(s, job_id, delay)
            )
        ]
    if state == fsm.STOPPING and plain(s.metadata).get("exiting"):
        exchange, symbol, leg = _open_leg(s)
        exit_now = tj.PositionMonitoringJob(
            position_id=s.strategy_id,
            exchange=exchange,
            symbol=symbol,
            monitoring_type=tj.MONITORING_TYPE_RISK_CHECK,
            parameters=_params(s, exitNow=True, **leg),
        )
        return [
            JobRequest(
                POSITION_MONITORING,
                env.JobPayload(position_monitoring=exit_now),
                _options(s, _job_id(s, "exit")),
            )
        ]
    return []


def _open_leg(s: spb.Strategy) -> tuple[str, str, dict[str, Any]]:
    """Where the strategy's position is (venue, symbol) and, for an arbitrage, how much of it.

    An arbitrage's two legs hedge each other: what it holds on the buy venue beyond the
    leg it left open is matched by a sale on the other, and is not its to watch or sell.
    So its monitoring weighs and exits only the open leg (`exitAmount`), on the venue the
    execution named, and a fully hedged one is `flat`: nothing to watch.
    """
    meta = plain(s.metadata)
    exchange = str(meta.get("positionExchange") or s.exchange)
    symbol = str(meta.get("positionSymbol") or s.symbol)
    if s.strategy_name != "arbitrage":
        return exchange, symbol, {}
    amount = Decimal(str(meta.get("positionAmount") or "0"))
    return exchange, symbol, ({"exitAmount": str(amount)} if amount > 0 else {"flat": True})


def monitor_checks(s: spb.Strategy) -> int:
    return int(plain(s.parameters).get("monitorChecks", MONITOR_CHECKS))


def may_hold_position(s: spb.Strategy) -> bool:
    """Whether the strategy may hold a position: it got as far as EXECUTING and is not the dry run."""
    return s.strategy_name != DRY_RUN and s.progress >= PROGRESS[fsm.EXECUTING]


def plain(struct: Struct) -> dict[str, Any]:
    """A Struct as plain Python values (numbers, strings, lists, dicts)."""
    return json_format.MessageToDict(struct)


def _stoploss(s: spb.Strategy) -> Decimal:
    """The fraction of the position the strategy may lose: maxLoss / maxPositionSize (5% when unset)."""
    if not s.HasField("risk_limits"):
        return Decimal("0.05")
    size, loss = amount_of(s.risk_limits.max_position_size), amount_of(s.risk_limits.max_loss)
    return min(Decimal(1), loss / size) if size > 0 else Decimal("0.05")


def _refs(jobs: Sequence[JobRequest]) -> list[str]:
    return [f"{j.queue}/{j.options.job_id}" for j in jobs if j.options is not None]


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the jobs a strategy awaits have come to."""

    done: list[queue_pb2.JobInfo]
    failed: list[queue_pb2.JobInfo]
    missing: list[str]
    waiting: int


class StrategyRunner:
    """Deploys strategies and moves them along; every method is safe to call again."""

    def __init__(
        self, store: StrategyStore, manager: QueueManager, machine: StrategyMachine | None = None
    ) -> None:
        self.store = store
        self.manager = manager
        self.machine = machine or StrategyMachine()

    # -- deploying -----------------------------------------------------------
    async def deploy(self, draft: spb.Strategy, request_id: str = "", by: str = "") -> spb.Strategy:
        """Store `draft` (name, exchange, symbol, parameters, limits: checked by the caller) and
        start it: IDLE -> ANALYZING, with its analysis jobs enqueued. A repeated request_id
        answers the strategy the first call deployed. `by` names who deployed it (the first
        transition's reason says so), when the service knows its callers."""
        s = spb.Strategy()
        s.CopyFrom(draft)
        s.strategy_id = new_strategy_id()
        s.state = state_enum(await self.machine.next_state(s.strategy_id, fsm.IDLE, fsm.ANALYZE))
        s.version, s.progress = 1, PROGRESS[fsm.ANALYZING]
        s.metadata.update({"strategyName": s.strategy_name, "ordersPlaced": 0, "totalProfit": "0"})
        s.deployed_at.GetCurrentTime()
        s.updated_at.CopyFrom(s.deployed_at)
        first = self._transition(fsm.IDLE, fsm.ANALYZE, f"deployed by {by}" if by else "deployed", s)
        jobs = jobs_for(s)
        events = [
            event_json("strategy_deployed", spb.StrategyDeployed(strategy=s)),
            event_json(
                "strategy_state_changed",
                spb.StrategyStateChanged(strategy_id=s.strategy_id, transition=first, metadata=s.metadata),
            ),
        ]
        made = await self.store.deploy(s, first, awaiting=_refs(jobs), request_id=request_id, events=events)
        if made != s.strategy_id:  # the request id deployed one before
            return (await self.get(made)).strategy
        await self.manager.add_jobs(jobs)
        return s

    async def get(self, strategy_id: str) -> Stored:
        found = await self.store.get(strategy_id)
        if found is None:
            raise NotFoundError("strategy", strategy_id)
        return found

    # -- moving --------------------------------------------------------------
    def _transition(
        self, source: str, trigger: str, reason: str, after: spb.Strategy
    ) -> spb.StrategyTransition:
        t = spb.StrategyTransition(
            from_state=state_enum(source),
            to_state=after.state,
            trigger=trigger,
            reason=reason,
            version=after.version,
            progress=after.progress,
        )
        t.at.GetCurrentTime()
        return t

    async def move(
        self,
        strategy_id: str,
        trigger: str | None,
        reason: str,
        *,
        expect: Sequence[str] | None = None,
        change: Callable[[spb.Strategy], None] | None = None,
        checks_done: int = 0,
        renew: bool = False,
        keep_awaiting: bool = False,
        replaced: list[str] | None = None,
        seen: int | None = None,
    ) -> Stored:
        """Fire `trigger` (None: stay, but change the record; `renew` asks for the state's jobs
        again), if the strategy is in one of `expect` (when given; otherwise the move is not for
        it any more and nothing happens). Retried on a lost race; the new state's jobs are
        enqueued after the commit and awaited (with what was awaited before, if
        `keep_awaiting`). `replaced` receives what the strategy awaited before the move that won.
        `seen` is the version a decision was taken on: a strategy changed since (another pass of
        the sweep or an event took the same decision first) is not moved again."""
        for _ in range(MOVE_TRIES):
            before = await self.get(strategy_id)
            if expect is not None and before.state not in expect:
                return before
            if seen is not None and before.version != seen:
                return before
            dest = (
                before.state
                if trigger is None
                else await self.machine.next_state(strategy_id, before.state, trigger)
            )
            after = spb.Strategy()
            after.CopyFrom(before.strategy)
            after.state, after.version = state_enum(dest), before.version + 1
            after.updated_at.GetCurrentTime()
            if change is not None:
                change(after)
            after.progress = max(after.progress, PROGRESS.get(dest, after.progress))
            jobs = jobs_for(after, checks_done) if trigger is not None or renew else []
            awaiting = [*before.awaiting, *_refs(jobs)] if keep_awaiting else _refs(jobs)
            transition = None
            events = []
            if trigger is not None:
                transition = self._transition(before.state, trigger, reason, after)
                changed = spb.StrategyStateChanged(
                    strategy_id=strategy_id, transition=transition, metadata=after.metadata
                )
                events.append(event_json("strategy_state_changed", changed))
            if await self.store.commit(
                before, after, transition=transition, awaiting=awaiting, events=events
            ):
                if replaced is not None:
                    replaced.extend(before.awaiting)
                if jobs:
                    await self.manager.add_jobs(jobs)
                return Stored(after, tuple(awaiting))
        raise UnavailableError(
            f"strategy {strategy_id} changed {MOVE_TRIES} times while being moved; try again"
        )

    async def stop(self, strategy_id: str, reason: str) -> Stored:
        """STOPPING: what it awaits and has not started is cancelled; then, once what is running
        has finished and any position is exited, COMPLETED. Answers the strategy as it stands:
        COMPLETED at once when there is nothing to wait for, else STOPPING (the driver goes on)."""
        before = await self.get(strategy_id)
        if before.state == fsm.COMPLETED:
            raise FailedPreconditionError(
                f"strategy {strategy_id} has already completed", "STATE", f"strategies/{strategy_id}"
            )
        if before.state != fsm.STOPPING:
            stopping = await self.move(strategy_id, fsm.STOP, reason, keep_awaiting=True)
            await self._cancel(stopping.awaiting)
        await self.advance(strategy_id)
        return await self.get(strategy_id)

    async def emergency_stop_all(self, reason: str) -> list[str]:
        """Stop every strategy at work, a few at a time; the ids stopped, also announced on
        `trading:events` (`emergency_stop`)."""
        gate = asyncio.Semaphore(STOP_AT_ONCE)

        async def stop_one(sid: str) -> str | None:
            async with gate:
                try:
                    await self.stop(sid, f"emergency stop: {reason}")
                except (FailedPreconditionError, NotFoundError):
                    return None  # finished meanwhile
                return sid

        ids = await self.store.ids_in([s for s in fsm.STATES if s != fsm.COMPLETED])
        stopped = [sid for sid in await asyncio.gather(*map(stop_one, ids)) if sid is not None]
        announced = te.EmergencyStop(reason=reason, strategy_ids=stopped)
        await self.manager.client.publish(TRADING_EVENTS_CHANNEL, event_json("emergency_stop", announced))
        return stopped

    async def _cancel(self, refs: Sequence[str]) -> None:
        for ref in refs:
            queue, _, job_id = ref.partition("/")
            # finished (changes nothing now), or running (_stopping waits for it)
            with contextlib.suppress(NotFoundError, FailedPreconditionError):
                await self.manager.cancel_job(queue, job_id)

    # -- advancing by job results ---------------------------------------------
    async def outcome(self, refs: Sequence[str]) -> Outcome:
        done, failed, missing, waiting = [], [], [], 0
        for ref in refs:
            queue, _, job_id = ref.partition("/")
            try:
                info = await self.manager.get_job(queue, job_id)
            except NotFoundError:
                missing.append(ref)
                continue
            if info.state == env.JOB_STATE_COMPLETED:
                done.append(info)
            elif info.state in (env.JOB_STATE_FAILED, env.JOB_STATE_SUPERSEDED):
                failed.append(info)  # replaced by a job the strategy does not await: it ended unrun
            else:
                waiting += 1
        return Outcome(done, failed, missing, waiting)

    async def advance(self, strategy_id: str) -> None:
        """Look at what the strategy awaits and move it on if that has come to an end."""
        stored = await self.get(strategy_id)
        state = stored.state
        if state == fsm.STOPPING:
            await self._stopping(stored)
            return
        if state in PASSING and _age_s(stored.strategy) < PASSING_S:
            return  # the move that put it there is moving it on: only a crash leaves it there
        if state == fsm.ERROR:  # failed, and the move back to IDLE did not happen (a crash between)
            await self.move(
                strategy_id, fsm.RESET, f"back to IDLE after: {stored.strategy.error}", expect=[state]
            )
            return
        if state not in (fsm.ANALYZING, fsm.PREPARING, fsm.EXECUTING, fsm.MONITORING):
            return
        out = await self.outcome(stored.awaiting)
        if state == fsm.PREPARING:  # analysed, not yet decided (a crash between): decide now
            await self._decide(stored.strategy, [_result(j) for j in out.done], out.missing)
            return
        if out.missing:  # committed, but the jobs were never added (a crash between): add them now
            lost = set(out.missing)
            await self.manager.add_jobs(
                [j for j in jobs_for(stored.strategy, _checks(stored)) if _refs([j])[0] in lost]
            )
            return
        if out.failed:
            why = "; ".join(f"{j.job.queue} job {j.job.id}: {j.failed_reason}" for j in out.failed)
            await self._fail(strategy_id, state, why)
            return
        if out.waiting:
            return
        results = [_result(j) for j in out.done]
        if state == fsm.ANALYZING:
            await self._prepare(stored, results)
        elif state == fsm.EXECUTING:
            await self._executed(stored, results)
        else:
            await self._monitored(stored, results)

    async def _stopping(self, stored: Stored) -> None:
        """Wait for what runs, exit the position, finish: each step once, as the sweep comes by."""
        sid, exiting = stored.strategy.strategy_id, bool(plain(stored.strategy.metadata).get("exiting"))
        out = await self.outcome(stored.awaiting)
        if out.waiting:
            return  # a job already running when the stop came: its order may still land
        if not exiting:  # what was cancelled is missing, and what failed changes nothing now
            ran = _execution([_result(j) for j in out.done])  # it ran before the stop: count it
            record = _record_execution(ran) if ran is not None else None
            if may_hold_position(stored.strategy):

                def exiting_now(s: spb.Strategy) -> None:
                    if record is not None:
                        record(s)
                    s.metadata.update({"exiting": True})

                await self.move(
                    sid,
                    None,
                    "exiting the position",
                    expect=[fsm.STOPPING],
                    change=exiting_now,
                    renew=True,
                    seen=stored.strategy.version,
                )
            else:
                await self.move(sid, fsm.FINISH, "stopped", expect=[fsm.STOPPING], change=record)
            return
        if out.missing:  # the exit job was committed but never added (a crash between)
            await self.manager.add_jobs(jobs_for(stored.strategy))
            return
        if out.failed:
            why = "; ".join(j.failed_reason for j in out.failed)
            await self._fail(sid, fsm.STOPPING, f"position not exited on stop: {why}")
            return
        exited = next(
            (r for r in map(_result, out.done) if isinstance(r, tr.PositionMonitoringResult)),
            tr.PositionMonitoringResult(),
        )
        await self.move(
            sid, fsm.FINISH, "stopped, position exited", expect=[fsm.STOPPING], change=_record_exit(exited)
        )

    async def _fail(self, strategy_id: str, state: str, why: str) -> None:
        failed = await self.move(
            strategy_id, fsm.FAIL, why, expect=[state], change=lambda s: setattr(s, "error", why)
        )
        if failed.state == fsm.ERROR:
            await self.move(strategy_id, fsm.RESET, "back to IDLE after: " + why, expect=[fsm.ERROR])

    async def _prepare(self, stored: Stored, results: list[object]) -> None:
        sid = stored.strategy.strategy_id
        # PREPARING keeps awaiting the analyses: decided again from them if trading-svc dies here
        prepared = await self.move(
            sid, fsm.PREPARE, "analysis done", expect=[fsm.ANALYZING], keep_awaiting=True
        )
        if prepared.state == fsm.PREPARING:
            await self._decide(prepared.strategy, results)

    async def _decide(self, s: spb.Strategy, results: list[object], missing: Sequence[str] = ()) -> None:
        """PREPARING's decision: the analyses within riskLimits -> EXECUTING, else ERROR -> IDLE."""
        if missing:
            breach = f"analysis results no longer kept ({', '.join(missing)}): deploy again"
        else:
            breach = _breach(s, results)
        if breach:
            await self._fail(s.strategy_id, fsm.PREPARING, breach)
        else:
            await self.move(s.strategy_id, fsm.EXECUTE, "analysis within riskLimits", expect=[fsm.PREPARING])

    async def _executed(self, stored: Stored, results: list[object]) -> None:
        ran = _execution(results) or tr.StrategyExecutionResult()
        await self.move(
            stored.strategy.strategy_id,
            fsm.MONITOR,
            f"executed: {ran.signal or 'done'}",
            expect=[fsm.EXECUTING],
            change=_record_execution(ran),
        )

    async def _monitored(self, stored: Stored, results: list[object]) -> None:
        sid = stored.strategy.strategy_id
        watched = next(
            (r for r in results if isinstance(r, tr.PositionMonitoringResult)), tr.PositionMonitoringResult()
        )
        checks = _checks(stored) + 1

        def record(s: spb.Strategy) -> None:
            s.metadata.update({"monitorChecks": checks})
            _record_exit(watched)(s)
            s.progress = min(99.0, PROGRESS[fsm.MONITORING] + 24.0 * checks / monitor_checks(s))

        last = checks >= monitor_checks(stored.strategy)
        if watched.triggered or last or stored.strategy.strategy_name == DRY_RUN:
            why = "exit condition met" if watched.triggered else f"{checks} position checks done"
            await self.move(sid, fsm.COMPLETE, why, expect=[fsm.MONITORING], change=record)
        else:  # check again: a newer check replaces the one before
            await self.move(
                sid,
                None,
                "position checked",
                expect=[fsm.MONITORING],
                change=record,
                checks_done=checks,
                renew=True,
                seen=stored.strategy.version,
            )


def _execution(results: list[object]) -> tr.StrategyExecutionResult | None:
    return next((r for r in results if isinstance(r, tr.StrategyExecutionResult)), None)


def _record_execution(ran: tr.StrategyExecutionResult) -> Callable[[spb.Strategy], None]:
    """Adds what an execution did (its orders, its profit, the position it left open) to the metadata."""

    def record(s: spb.Strategy) -> None:
        meta = plain(s.metadata)
        orders = int(meta.get("ordersPlaced", 0)) + ran.orders_placed
        profit = Decimal(str(meta.get("totalProfit", "0"))) + Decimal(ran.profit or "0")
        s.metadata.update({"ordersPlaced": orders, "totalProfit": str(profit), "signal": ran.signal})
        if ran.refused:
            s.metadata.update({"refused": ran.refused})
        if ran.position_amount:
            s.metadata.update(
                {
                    "positionAmount": ran.position_amount,
                    "entryPrice": ran.entry_price,
                    "positionExchange": ran.position_exchange or s.exchange,
                    "positionSymbol": ran.position_symbol or s.symbol,
                }
            )

    return record


def _record_exit(watched: tr.PositionMonitoringResult) -> Callable[[spb.Strategy], None]:
    """Adds what exiting a position made (its order, its realized profit) to the metadata."""

    def record(s: spb.Strategy) -> None:
        meta = plain(s.metadata)
        if watched.realized_profit:
            profit = Decimal(str(meta.get("totalProfit", "0"))) + Decimal(watched.realized_profit)
            s.metadata.update({"totalProfit": str(profit)})
        if watched.close_order.id:
            s.metadata.update({"ordersPlaced": int(meta.get("ordersPlaced", 0)) + 1, "positionAmount": "0"})

    return record


def _age_s(s: spb.Strategy) -> float:
    """Seconds since the strategy last changed."""
    return time.time() - s.updated_at.ToMicroseconds() / 1e6


def _checks(stored: Stored) -> int:
    return int(plain(stored.strategy.metadata).get("monitorChecks", 0))


def _result(info: queue_pb2.JobInfo) -> object:
    """The result message a finished job returned (empty when it kept none)."""
    for cls in (
        tr.RiskAnalysisResult,
        tr.ArbitrageDetectionResult,
        tr.StrategyExecutionResult,
        tr.PositionMonitoringResult,
    ):
        if info.result.TypeName() == cls.DESCRIPTOR.full_name:
            message = cls()
            info.result.Unpack(message)
            return message
    return None


def _breach(s: spb.Strategy, results: list[object]) -> str:
    """Why the analysis rules the strategy out under its riskLimits ('' when it does not)."""
    if not s.HasField("risk_limits"):
        return ""
    max_loss = amount_of(s.risk_limits.max_loss)
    for r in results:
        if isinstance(r, tr.RiskAnalysisResult) and r.value_at_risk and Decimal(r.value_at_risk) > max_loss:
            return (
                f"analysis breaches riskLimits: {r.horizon_days}-day {r.confidence:.0%} {r.method} VaR "
                f"{Decimal(r.value_at_risk):.2f} exceeds maxLoss {max_loss}"
            )
        if (
            isinstance(r, tr.ArbitrageDetectionResult)
            and s.strategy_name == "arbitrage"
            and not r.opportunities
        ):
            return f"no arbitrage on {s.symbol} at or above the minimum profit: nothing to execute"
    return ""
