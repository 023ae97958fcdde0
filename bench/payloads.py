"""The jobs the bench sends: the same data BullMQ's bench sends, as jobmesh payloads.

BullMQ's bench adds `{i, t: now(), pad: 'x' * 120}` and its no-op processor
reads `job.data.t`. jobmesh carries typed payloads, so:

- the *task job* is a `CategorizationJob` on the `categorization` queue with
  `id` = i, `timestamp` = t and one transaction id padded to 120 characters
  (the pad). It is validated on add like every real job, and a registered
  no-op task runs it: the handler start is where the bench takes its timings,
  as BullMQ's processor is. This is the headline job. The public path sends
  the same message with taskiq's `kiq` (`task_message`), as a taskiq user does.
- the *probe job* is a `ProbeJob` (seq = i, sent_at = t, pad = 120 x): the
  runtime runs it as a no-op without any handler, so it measures the transport
  alone. With no handler there is nothing to time at job start, so its drain is
  timed from worker start to the last acknowledgement (a stricter window).
"""

from __future__ import annotations

import time

from google.protobuf.timestamp_pb2 import Timestamp

from jobmesh.jobs.v1 import envelope_pb2, financial_jobs_pb2, probe_pb2
from queue_system.catalog import CATEGORIZATION
from queue_system.envelope import JobRequest

QUEUE = CATEGORIZATION
PAD_CHARS = 120
PAD = "x" * PAD_CHARS


def _now() -> Timestamp:
    stamp = Timestamp()
    stamp.FromNanoseconds(time.time_ns())
    return stamp


def task_payload(i: int) -> envelope_pb2.JobPayload:
    """A categorization job stamped now, of BullMQ's bench job's size."""
    tx = f"tx-{i:08d}-"
    return envelope_pb2.JobPayload(
        categorization=financial_jobs_pb2.CategorizationJob(
            id=str(i),
            timestamp=_now(),
            transaction_ids=[tx + PAD[len(tx) :]],
            method=financial_jobs_pb2.CATEGORIZATION_METHOD_RULES,
        )
    )


def task_message(i: int) -> financial_jobs_pb2.CategorizationJob:
    """The task job's message alone: what a taskiq user passes to `kiq`."""
    return task_payload(i).categorization


def probe_payload(i: int) -> envelope_pb2.JobPayload:
    """A probe job stamped now: BullMQ's `{i, t, pad}` exactly."""
    return envelope_pb2.JobPayload(probe=probe_pb2.ProbeJob(seq=i, sent_at=_now(), pad=PAD))


def task_job(i: int) -> JobRequest:
    return JobRequest(QUEUE, task_payload(i))


def probe_job(i: int) -> JobRequest:
    return JobRequest(QUEUE, probe_payload(i))
