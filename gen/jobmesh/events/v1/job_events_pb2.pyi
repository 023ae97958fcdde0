import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from jobmesh.jobs.v1 import envelope_pb2 as _envelope_pb2
from jobmesh.jobs.v1 import failure_pb2 as _failure_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobLifecycle(_message.Message):
    __slots__ = ("queue", "job_id", "state", "attempt", "progress", "failed_reason", "retry_delay", "duration", "worker", "reclaimed_from")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    FAILED_REASON_FIELD_NUMBER: _ClassVar[int]
    RETRY_DELAY_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    WORKER_FIELD_NUMBER: _ClassVar[int]
    RECLAIMED_FROM_FIELD_NUMBER: _ClassVar[int]
    queue: str
    job_id: str
    state: _envelope_pb2.JobState
    attempt: int
    progress: float
    failed_reason: str
    retry_delay: _duration_pb2.Duration
    duration: _duration_pb2.Duration
    worker: str
    reclaimed_from: str
    def __init__(self, queue: _Optional[str] = ..., job_id: _Optional[str] = ..., state: _Optional[_Union[_envelope_pb2.JobState, str]] = ..., attempt: _Optional[int] = ..., progress: _Optional[float] = ..., failed_reason: _Optional[str] = ..., retry_delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., worker: _Optional[str] = ..., reclaimed_from: _Optional[str] = ...) -> None: ...

class JobDeadLettered(_message.Message):
    __slots__ = ("queue", "job_id", "reason", "detail", "attempts", "deliveries")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    queue: str
    job_id: str
    reason: _failure_pb2.DeadLetterReason
    detail: str
    attempts: int
    deliveries: int
    def __init__(self, queue: _Optional[str] = ..., job_id: _Optional[str] = ..., reason: _Optional[_Union[_failure_pb2.DeadLetterReason, str]] = ..., detail: _Optional[str] = ..., attempts: _Optional[int] = ..., deliveries: _Optional[int] = ...) -> None: ...

class QueueControl(_message.Message):
    __slots__ = ("queue", "affected", "request_id")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    AFFECTED_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    queue: str
    affected: int
    request_id: str
    def __init__(self, queue: _Optional[str] = ..., affected: _Optional[int] = ..., request_id: _Optional[str] = ...) -> None: ...
