"""The strategy state machine: the seed's states and transitions, exactly, on transitions' AsyncMachine.

    IDLE -> ANALYZING -> PREPARING -> EXECUTING -> MONITORING -> COMPLETED
    any state -> ERROR -> IDLE;  any state -> STOPPING -> COMPLETED

"Any state" leaves out the end states: a COMPLETED strategy is done (nothing
moves it), ERROR does not fail again, STOPPING does not stop again.

The machine only decides. It has no callbacks, so firing a trigger has no
side effect: the strategy store commits the new state atomically (a version
check in Redis) and what follows a state (the jobs of ANALYZING, ...) is done
from the committed state by the runner. That is the mode chosen on purpose
against transitions' async pitfalls: with no callbacks there is nothing for
a later event to cancel mid-way, and two events racing on one strategy are
settled by the version check, not by the machine, so `queued=True` (which
would serialize every strategy behind one queue) is not needed. Each trigger
fires on a model of its own, made for that one decision.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Final, cast

from transitions.core import MachineError
from transitions.extensions.asyncio import AsyncMachine

from jobmesh.trading.v1 import strategy_pb2 as spb
from queue_system.errors import FailedPreconditionError

# transitions logs every state entered at INFO; each decision here is a what-if on a throwaway
# model, so those lines would say nothing true. The strategy's history is the record.
logging.getLogger("transitions").setLevel(logging.WARNING)

IDLE: Final = "IDLE"
ANALYZING: Final = "ANALYZING"
PREPARING: Final = "PREPARING"
EXECUTING: Final = "EXECUTING"
MONITORING: Final = "MONITORING"
COMPLETED: Final = "COMPLETED"
ERROR: Final = "ERROR"
STOPPING: Final = "STOPPING"
STATES: Final = (IDLE, ANALYZING, PREPARING, EXECUTING, MONITORING, COMPLETED, ERROR, STOPPING)

# Triggers: the seed's forward path, then failure, recovery and stopping.
ANALYZE: Final = "analyze"
PREPARE: Final = "prepare"
EXECUTE: Final = "execute"
MONITOR: Final = "monitor"
COMPLETE: Final = "complete"
FAIL: Final = "fail"
RESET: Final = "reset"
STOP: Final = "stop"
FINISH: Final = "finish"


@dataclass(frozen=True, slots=True)
class Transition:
    """One row of the seed's table: `trigger` moves a strategy from any of `sources` to `dest`."""

    trigger: str
    sources: frozenset[str]
    dest: str


def _all_but(*states: str) -> frozenset[str]:
    return frozenset(s for s in STATES if s not in states)


TRANSITIONS: Final = (
    Transition(ANALYZE, frozenset({IDLE}), ANALYZING),
    Transition(PREPARE, frozenset({ANALYZING}), PREPARING),
    Transition(EXECUTE, frozenset({PREPARING}), EXECUTING),
    Transition(MONITOR, frozenset({EXECUTING}), MONITORING),
    Transition(COMPLETE, frozenset({MONITORING}), COMPLETED),
    Transition(FAIL, _all_but(COMPLETED, ERROR), ERROR),
    Transition(RESET, frozenset({ERROR}), IDLE),
    Transition(STOP, _all_but(COMPLETED, STOPPING), STOPPING),
    Transition(FINISH, frozenset({STOPPING}), COMPLETED),
)


def state_enum(name: str) -> spb.StrategyState:
    """STRATEGY_STATE_<NAME> of a state name."""
    return cast(spb.StrategyState, spb.StrategyState.Value(f"STRATEGY_STATE_{name}"))


def state_name(value: int) -> str:
    """The state name of a StrategyState value ("ANALYZING")."""
    return spb.StrategyState.Name(cast(spb.StrategyState, value)).removeprefix("STRATEGY_STATE_")


class IllegalTransitionError(FailedPreconditionError):
    """The trigger does not apply in the strategy's state (FAILED_PRECONDITION, PreconditionFailure)."""

    reason = "ILLEGAL_TRANSITION"

    def __init__(self, strategy_id: str, state: str, trigger: str) -> None:
        allowed = ", ".join(t.trigger for t in TRANSITIONS if state in t.sources) or "none: it is finished"
        super().__init__(
            f"strategy {strategy_id} is {state}: '{trigger}' does not apply (what does: {allowed})",
            "STATE",
            f"strategies/{strategy_id}",
        )
        self.state = state
        self.trigger = trigger


class _Decision:
    """The one-use model a trigger fires on (transitions adds `state` and the trigger methods)."""

    state: str


class StrategyMachine:
    """The seed's FSM; `next_state` fires one trigger from one state."""

    def __init__(self) -> None:
        self.machine = AsyncMachine(
            model=None,
            states=list(STATES),
            transitions=[
                {"trigger": t.trigger, "source": sorted(t.sources), "dest": t.dest} for t in TRANSITIONS
            ],
            initial=IDLE,
            auto_transitions=False,
            queued=False,
            send_event=False,
        )

    def allows(self, state: str, trigger: str) -> bool:
        return any(t.trigger == trigger and state in t.sources for t in TRANSITIONS)

    async def next_state(self, strategy_id: str, state: str, trigger: str) -> str:
        """The state `trigger` leads to from `state`; IllegalTransitionError when it does not apply."""
        if state not in STATES or not self.allows(state, trigger):
            raise IllegalTransitionError(strategy_id, state, trigger)
        model = _Decision()
        self.machine.add_model(model, initial=state)
        try:
            await model.trigger(trigger)  # type: ignore[attr-defined]
        except MachineError as exc:  # the table above and the machine disagree: a bug, say so
            raise IllegalTransitionError(strategy_id, state, trigger) from exc
        finally:
            self.machine.remove_model(model)
        return model.state
