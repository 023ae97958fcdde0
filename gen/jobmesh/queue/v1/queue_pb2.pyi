import datetime

from google.protobuf import any_pb2 as _any_pb2
from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jobmesh.jobs.v1 import envelope_pb2 as _envelope_pb2
from jobmesh.jobs.v1 import failure_pb2 as _failure_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobCounts(_message.Message):
    __slots__ = ("waiting", "active", "delayed", "prioritized", "completed", "failed", "paused")
    WAITING_FIELD_NUMBER: _ClassVar[int]
    ACTIVE_FIELD_NUMBER: _ClassVar[int]
    DELAYED_FIELD_NUMBER: _ClassVar[int]
    PRIORITIZED_FIELD_NUMBER: _ClassVar[int]
    COMPLETED_FIELD_NUMBER: _ClassVar[int]
    FAILED_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    waiting: int
    active: int
    delayed: int
    prioritized: int
    completed: int
    failed: int
    paused: int
    def __init__(self, waiting: _Optional[int] = ..., active: _Optional[int] = ..., delayed: _Optional[int] = ..., prioritized: _Optional[int] = ..., completed: _Optional[int] = ..., failed: _Optional[int] = ..., paused: _Optional[int] = ...) -> None: ...

class RateLimit(_message.Message):
    __slots__ = ("max", "duration")
    MAX_FIELD_NUMBER: _ClassVar[int]
    DURATION_FIELD_NUMBER: _ClassVar[int]
    max: int
    duration: _duration_pb2.Duration
    def __init__(self, max: _Optional[int] = ..., duration: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class QueueStats(_message.Message):
    __slots__ = ("queue", "counts", "paused", "workers", "concurrency", "rate_limit", "dead_lettered")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    COUNTS_FIELD_NUMBER: _ClassVar[int]
    PAUSED_FIELD_NUMBER: _ClassVar[int]
    WORKERS_FIELD_NUMBER: _ClassVar[int]
    CONCURRENCY_FIELD_NUMBER: _ClassVar[int]
    RATE_LIMIT_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERED_FIELD_NUMBER: _ClassVar[int]
    queue: str
    counts: JobCounts
    paused: bool
    workers: int
    concurrency: int
    rate_limit: RateLimit
    dead_lettered: int
    def __init__(self, queue: _Optional[str] = ..., counts: _Optional[_Union[JobCounts, _Mapping]] = ..., paused: _Optional[bool] = ..., workers: _Optional[int] = ..., concurrency: _Optional[int] = ..., rate_limit: _Optional[_Union[RateLimit, _Mapping]] = ..., dead_lettered: _Optional[int] = ...) -> None: ...

class JobInfo(_message.Message):
    __slots__ = ("job", "state", "attempts_made", "deliveries", "progress", "failed_reason", "errors", "processed_at", "finished_at", "ready_at", "worker", "result")
    JOB_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_MADE_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    FAILED_REASON_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    PROCESSED_AT_FIELD_NUMBER: _ClassVar[int]
    FINISHED_AT_FIELD_NUMBER: _ClassVar[int]
    READY_AT_FIELD_NUMBER: _ClassVar[int]
    WORKER_FIELD_NUMBER: _ClassVar[int]
    RESULT_FIELD_NUMBER: _ClassVar[int]
    job: _envelope_pb2.Job
    state: _envelope_pb2.JobState
    attempts_made: int
    deliveries: int
    progress: float
    failed_reason: str
    errors: _containers.RepeatedCompositeFieldContainer[_failure_pb2.AttemptError]
    processed_at: _timestamp_pb2.Timestamp
    finished_at: _timestamp_pb2.Timestamp
    ready_at: _timestamp_pb2.Timestamp
    worker: str
    result: _any_pb2.Any
    def __init__(self, job: _Optional[_Union[_envelope_pb2.Job, _Mapping]] = ..., state: _Optional[_Union[_envelope_pb2.JobState, str]] = ..., attempts_made: _Optional[int] = ..., deliveries: _Optional[int] = ..., progress: _Optional[float] = ..., failed_reason: _Optional[str] = ..., errors: _Optional[_Iterable[_Union[_failure_pb2.AttemptError, _Mapping]]] = ..., processed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., finished_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., ready_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., worker: _Optional[str] = ..., result: _Optional[_Union[_any_pb2.Any, _Mapping]] = ...) -> None: ...
