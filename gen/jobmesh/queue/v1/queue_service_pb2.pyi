import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from jobmesh.auth.v1 import auth_pb2 as _auth_pb2
from jobmesh.events.v1 import event_pb2 as _event_pb2
from jobmesh.jobs.v1 import envelope_pb2 as _envelope_pb2
from jobmesh.queue.v1 import queue_pb2 as _queue_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class EnqueueJobRequest(_message.Message):
    __slots__ = ("request_id", "queue", "payload", "options", "trace")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    TRACE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    queue: str
    payload: _envelope_pb2.JobPayload
    options: _envelope_pb2.JobOptions
    trace: _envelope_pb2.TraceContext
    def __init__(self, request_id: _Optional[str] = ..., queue: _Optional[str] = ..., payload: _Optional[_Union[_envelope_pb2.JobPayload, _Mapping]] = ..., options: _Optional[_Union[_envelope_pb2.JobOptions, _Mapping]] = ..., trace: _Optional[_Union[_envelope_pb2.TraceContext, _Mapping]] = ...) -> None: ...

class EnqueueJobResponse(_message.Message):
    __slots__ = ("job_id", "queue", "duplicate", "state")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    DUPLICATE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    queue: str
    duplicate: bool
    state: _envelope_pb2.JobState
    def __init__(self, job_id: _Optional[str] = ..., queue: _Optional[str] = ..., duplicate: _Optional[bool] = ..., state: _Optional[_Union[_envelope_pb2.JobState, str]] = ...) -> None: ...

class JobSpec(_message.Message):
    __slots__ = ("queue", "payload", "options", "trace")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    TRACE_FIELD_NUMBER: _ClassVar[int]
    queue: str
    payload: _envelope_pb2.JobPayload
    options: _envelope_pb2.JobOptions
    trace: _envelope_pb2.TraceContext
    def __init__(self, queue: _Optional[str] = ..., payload: _Optional[_Union[_envelope_pb2.JobPayload, _Mapping]] = ..., options: _Optional[_Union[_envelope_pb2.JobOptions, _Mapping]] = ..., trace: _Optional[_Union[_envelope_pb2.TraceContext, _Mapping]] = ...) -> None: ...

class EnqueueJobsRequest(_message.Message):
    __slots__ = ("request_id", "jobs")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    JOBS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    jobs: _containers.RepeatedCompositeFieldContainer[JobSpec]
    def __init__(self, request_id: _Optional[str] = ..., jobs: _Optional[_Iterable[_Union[JobSpec, _Mapping]]] = ...) -> None: ...

class EnqueueJobsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[EnqueueJobResponse]
    def __init__(self, results: _Optional[_Iterable[_Union[EnqueueJobResponse, _Mapping]]] = ...) -> None: ...

class GetJobRequest(_message.Message):
    __slots__ = ("queue", "job_id")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    queue: str
    job_id: str
    def __init__(self, queue: _Optional[str] = ..., job_id: _Optional[str] = ...) -> None: ...

class GetJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _queue_pb2.JobInfo
    def __init__(self, job: _Optional[_Union[_queue_pb2.JobInfo, _Mapping]] = ...) -> None: ...

class ListJobsRequest(_message.Message):
    __slots__ = ("queue", "state", "page_size", "page_token")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    queue: str
    state: _envelope_pb2.JobState
    page_size: int
    page_token: str
    def __init__(self, queue: _Optional[str] = ..., state: _Optional[_Union[_envelope_pb2.JobState, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListJobsResponse(_message.Message):
    __slots__ = ("jobs", "next_page_token")
    JOBS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    jobs: _containers.RepeatedCompositeFieldContainer[_queue_pb2.JobInfo]
    next_page_token: str
    def __init__(self, jobs: _Optional[_Iterable[_Union[_queue_pb2.JobInfo, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class CancelJobRequest(_message.Message):
    __slots__ = ("request_id", "queue", "job_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    queue: str
    job_id: str
    def __init__(self, request_id: _Optional[str] = ..., queue: _Optional[str] = ..., job_id: _Optional[str] = ...) -> None: ...

class CancelJobResponse(_message.Message):
    __slots__ = ("job",)
    JOB_FIELD_NUMBER: _ClassVar[int]
    job: _queue_pb2.JobInfo
    def __init__(self, job: _Optional[_Union[_queue_pb2.JobInfo, _Mapping]] = ...) -> None: ...

class GetQueueStatsRequest(_message.Message):
    __slots__ = ("queue",)
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    queue: str
    def __init__(self, queue: _Optional[str] = ...) -> None: ...

class GetQueueStatsResponse(_message.Message):
    __slots__ = ("stats",)
    STATS_FIELD_NUMBER: _ClassVar[int]
    stats: _queue_pb2.QueueStats
    def __init__(self, stats: _Optional[_Union[_queue_pb2.QueueStats, _Mapping]] = ...) -> None: ...

class ListQueueStatsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListQueueStatsResponse(_message.Message):
    __slots__ = ("stats", "next_page_token")
    STATS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    stats: _containers.RepeatedCompositeFieldContainer[_queue_pb2.QueueStats]
    next_page_token: str
    def __init__(self, stats: _Optional[_Iterable[_Union[_queue_pb2.QueueStats, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class PauseQueueRequest(_message.Message):
    __slots__ = ("request_id", "queue")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    queue: str
    def __init__(self, request_id: _Optional[str] = ..., queue: _Optional[str] = ...) -> None: ...

class PauseQueueResponse(_message.Message):
    __slots__ = ("stats",)
    STATS_FIELD_NUMBER: _ClassVar[int]
    stats: _queue_pb2.QueueStats
    def __init__(self, stats: _Optional[_Union[_queue_pb2.QueueStats, _Mapping]] = ...) -> None: ...

class ResumeQueueRequest(_message.Message):
    __slots__ = ("request_id", "queue")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    queue: str
    def __init__(self, request_id: _Optional[str] = ..., queue: _Optional[str] = ...) -> None: ...

class ResumeQueueResponse(_message.Message):
    __slots__ = ("stats",)
    STATS_FIELD_NUMBER: _ClassVar[int]
    stats: _queue_pb2.QueueStats
    def __init__(self, stats: _Optional[_Union[_queue_pb2.QueueStats, _Mapping]] = ...) -> None: ...

class RetryJobsRequest(_message.Message):
    __slots__ = ("request_id", "queue", "state", "job_ids", "limit")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    queue: str
    state: _envelope_pb2.JobState
    job_ids: _containers.RepeatedScalarFieldContainer[str]
    limit: int
    def __init__(self, request_id: _Optional[str] = ..., queue: _Optional[str] = ..., state: _Optional[_Union[_envelope_pb2.JobState, str]] = ..., job_ids: _Optional[_Iterable[str]] = ..., limit: _Optional[int] = ...) -> None: ...

class RetryJobsResponse(_message.Message):
    __slots__ = ("retried", "job_ids")
    RETRIED_FIELD_NUMBER: _ClassVar[int]
    JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    retried: int
    job_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, retried: _Optional[int] = ..., job_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class CleanQueueRequest(_message.Message):
    __slots__ = ("request_id", "queue", "state", "grace", "limit")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    GRACE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    queue: str
    state: _envelope_pb2.JobState
    grace: _duration_pb2.Duration
    limit: int
    def __init__(self, request_id: _Optional[str] = ..., queue: _Optional[str] = ..., state: _Optional[_Union[_envelope_pb2.JobState, str]] = ..., grace: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., limit: _Optional[int] = ...) -> None: ...

class CleanQueueResponse(_message.Message):
    __slots__ = ("removed", "job_ids")
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    removed: int
    job_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, removed: _Optional[int] = ..., job_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class DrainQueueRequest(_message.Message):
    __slots__ = ("request_id", "queue", "include_delayed")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DELAYED_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    queue: str
    include_delayed: bool
    def __init__(self, request_id: _Optional[str] = ..., queue: _Optional[str] = ..., include_delayed: _Optional[bool] = ...) -> None: ...

class DrainQueueResponse(_message.Message):
    __slots__ = ("removed",)
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    removed: int
    def __init__(self, removed: _Optional[int] = ...) -> None: ...

class WatchQueueEventsRequest(_message.Message):
    __slots__ = ("queues", "events", "resume_token")
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    queues: _containers.RepeatedScalarFieldContainer[str]
    events: _containers.RepeatedScalarFieldContainer[str]
    resume_token: str
    def __init__(self, queues: _Optional[_Iterable[str]] = ..., events: _Optional[_Iterable[str]] = ..., resume_token: _Optional[str] = ...) -> None: ...

class WatchQueueEventsResponse(_message.Message):
    __slots__ = ("resume_token", "snapshot", "event")
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    resume_token: str
    snapshot: QueueStatsSnapshot
    event: _event_pb2.Event
    def __init__(self, resume_token: _Optional[str] = ..., snapshot: _Optional[_Union[QueueStatsSnapshot, _Mapping]] = ..., event: _Optional[_Union[_event_pb2.Event, _Mapping]] = ...) -> None: ...

class QueueStatsSnapshot(_message.Message):
    __slots__ = ("stats",)
    STATS_FIELD_NUMBER: _ClassVar[int]
    stats: _containers.RepeatedCompositeFieldContainer[_queue_pb2.QueueStats]
    def __init__(self, stats: _Optional[_Iterable[_Union[_queue_pb2.QueueStats, _Mapping]]] = ...) -> None: ...
