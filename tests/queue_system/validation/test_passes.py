"""RuleBook.passes, the quick yes/no the producer asks before walking a job's rules.

validate_job answers from `passes` alone when it says yes, so it must never say
yes to a message the walk finds a violation in (every bad-field test in
test_jobs.py goes through it too); and it should say yes to the valid jobs,
or every job would pay for the walk after all.
"""

from __future__ import annotations

import pytest
from google.protobuf.message import Message

from jobmesh.jobs.v1.envelope_pb2 import JobOptions, JobPayload
from queue_system import catalog
from queue_system.validation.job_rules import JOB_RULES
from tests.queue_system.validation.test_jobs import (
    BAD_OPTIONS,
    BAD_PAYLOADS,
    MINIMAL,
    PROBE_CASES,
    VALID,
    Mutation,
    _probe,
)


def _walk_finds_nothing(msg: Message) -> bool:
    return not list(JOB_RULES.check_message(msg, ""))


def _kind(payload: JobPayload) -> Message:
    kind = payload.WhichOneof("kind")
    assert kind is not None
    message: Message = getattr(payload, kind)
    return message


@pytest.mark.parametrize("queue", catalog.ALL_QUEUES)
def test_the_valid_and_minimal_job_of_each_queue_pass(queue: str) -> None:
    for payload in (VALID[queue](), MINIMAL[queue], _probe()):
        assert JOB_RULES.passes(_kind(payload))


@pytest.mark.parametrize(("queue", "mutation", "fields"), BAD_PAYLOADS)
def test_a_payload_passes_exactly_when_no_field_is_bad(
    queue: str, mutation: Mutation, fields: list[str]
) -> None:
    payload = VALID[queue]()
    mutation(getattr(payload, catalog.PAYLOAD_FIELD[queue]))
    message = _kind(payload)
    assert JOB_RULES.passes(message) is _walk_finds_nothing(message) is (not fields)


@pytest.mark.parametrize(("mutation", "fields"), PROBE_CASES)
def test_a_bad_probe_does_not_pass(mutation: Mutation, fields: list[str]) -> None:
    payload = _probe()
    mutation(payload.probe)
    assert JOB_RULES.passes(payload.probe) is _walk_finds_nothing(payload.probe) is False


@pytest.mark.parametrize(("options", "fields"), BAD_OPTIONS)
def test_bad_options_do_not_pass(options: JobOptions, fields: list[str]) -> None:
    assert JOB_RULES.passes(options) is _walk_finds_nothing(options) is False
