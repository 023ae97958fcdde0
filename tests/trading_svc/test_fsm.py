"""The strategy FSM is the seed's: each legal move leads where the seed says; all others are refused."""

from __future__ import annotations

import itertools

import pytest

from jobmesh.trading.v1 import strategy_pb2 as spb
from trading_svc import fsm
from trading_svc.fsm import IllegalTransitionError, StrategyMachine

FORWARD = [
    ("IDLE", "analyze", "ANALYZING"),
    ("ANALYZING", "prepare", "PREPARING"),
    ("PREPARING", "execute", "EXECUTING"),
    ("EXECUTING", "monitor", "MONITORING"),
    ("MONITORING", "complete", "COMPLETED"),
]
# the seed: any state -> ERROR -> IDLE; any state -> STOPPING -> COMPLETED
ANY_TO_ERROR = [
    (s, "fail", "ERROR") for s in ("IDLE", "ANALYZING", "PREPARING", "EXECUTING", "MONITORING", "STOPPING")
]
ANY_TO_STOPPING = [
    (s, "stop", "STOPPING") for s in ("IDLE", "ANALYZING", "PREPARING", "EXECUTING", "MONITORING", "ERROR")
]
LEGAL = [
    *FORWARD,
    *ANY_TO_ERROR,
    ("ERROR", "reset", "IDLE"),
    *ANY_TO_STOPPING,
    ("STOPPING", "finish", "COMPLETED"),
]


@pytest.mark.parametrize(("state", "trigger", "dest"), LEGAL)
async def test_each_legal_move_leads_where_the_seed_says(state: str, trigger: str, dest: str) -> None:
    assert await StrategyMachine().next_state("s1", state, trigger) == dest


async def test_every_other_move_is_refused_naming_what_does_apply() -> None:
    machine = StrategyMachine()
    legal = {(s, t) for s, t, _ in LEGAL}
    triggers = {t for _, t, _ in LEGAL}
    refused = 0
    for state, trigger in itertools.product(fsm.STATES, sorted(triggers)):
        if (state, trigger) in legal:
            continue
        with pytest.raises(IllegalTransitionError) as caught:
            await machine.next_state("s1", state, trigger)
        refused += 1
        assert caught.value.violation_type == "STATE" and caught.value.subject == "strategies/s1"
        assert f"is {state}: '{trigger}' does not apply" in str(caught.value)
    assert refused == len(fsm.STATES) * len(triggers) - len(LEGAL)
    with pytest.raises(IllegalTransitionError, match="none: it is finished"):
        await machine.next_state("s1", "COMPLETED", "stop")


async def test_the_machine_holds_no_model_between_decisions() -> None:
    machine = StrategyMachine()
    for state, trigger, _ in LEGAL:
        await machine.next_state("s1", state, trigger)
    assert machine.machine.models == []


def test_state_names_and_enum_values_match_the_contract() -> None:
    assert [fsm.state_name(fsm.state_enum(s)) for s in fsm.STATES] == list(fsm.STATES)
    assert {fsm.state_enum(s) for s in fsm.STATES} == set(spb.StrategyState.values()) - {
        spb.STRATEGY_STATE_UNSPECIFIED
    }
