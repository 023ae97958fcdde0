import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jobmesh.auth.v1 import auth_pb2 as _auth_pb2
from jobmesh.jobs.v1 import envelope_pb2 as _envelope_pb2
from jobmesh.queue.v1 import queue_pb2 as _queue_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetQueueStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetQueueStatusResponse(_message.Message):
    __slots__ = ("worker", "queues", "running")
    WORKER_FIELD_NUMBER: _ClassVar[int]
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    RUNNING_FIELD_NUMBER: _ClassVar[int]
    worker: str
    queues: _containers.RepeatedCompositeFieldContainer[_queue_pb2.QueueStats]
    running: int
    def __init__(self, worker: _Optional[str] = ..., queues: _Optional[_Iterable[_Union[_queue_pb2.QueueStats, _Mapping]]] = ..., running: _Optional[int] = ...) -> None: ...

class PauseQueuesRequest(_message.Message):
    __slots__ = ("request_id", "queues")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    queues: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, request_id: _Optional[str] = ..., queues: _Optional[_Iterable[str]] = ...) -> None: ...

class PauseQueuesResponse(_message.Message):
    __slots__ = ("queues",)
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    queues: _containers.RepeatedCompositeFieldContainer[_queue_pb2.QueueStats]
    def __init__(self, queues: _Optional[_Iterable[_Union[_queue_pb2.QueueStats, _Mapping]]] = ...) -> None: ...

class ResumeQueuesRequest(_message.Message):
    __slots__ = ("request_id", "queues")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    queues: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, request_id: _Optional[str] = ..., queues: _Optional[_Iterable[str]] = ...) -> None: ...

class ResumeQueuesResponse(_message.Message):
    __slots__ = ("queues",)
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    queues: _containers.RepeatedCompositeFieldContainer[_queue_pb2.QueueStats]
    def __init__(self, queues: _Optional[_Iterable[_Union[_queue_pb2.QueueStats, _Mapping]]] = ...) -> None: ...

class Schedule(_message.Message):
    __slots__ = ("name", "cron", "timezone", "queue", "payload", "enabled", "next_run_at", "last_run_at", "last_job_id")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CRON_FIELD_NUMBER: _ClassVar[int]
    TIMEZONE_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    ENABLED_FIELD_NUMBER: _ClassVar[int]
    NEXT_RUN_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_RUN_AT_FIELD_NUMBER: _ClassVar[int]
    LAST_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    name: str
    cron: str
    timezone: str
    queue: str
    payload: _envelope_pb2.JobPayload
    enabled: bool
    next_run_at: _timestamp_pb2.Timestamp
    last_run_at: _timestamp_pb2.Timestamp
    last_job_id: str
    def __init__(self, name: _Optional[str] = ..., cron: _Optional[str] = ..., timezone: _Optional[str] = ..., queue: _Optional[str] = ..., payload: _Optional[_Union[_envelope_pb2.JobPayload, _Mapping]] = ..., enabled: _Optional[bool] = ..., next_run_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_run_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., last_job_id: _Optional[str] = ...) -> None: ...

class ListSchedulesRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListSchedulesResponse(_message.Message):
    __slots__ = ("schedules", "next_page_token")
    SCHEDULES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    schedules: _containers.RepeatedCompositeFieldContainer[Schedule]
    next_page_token: str
    def __init__(self, schedules: _Optional[_Iterable[_Union[Schedule, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class TriggerScheduleRequest(_message.Message):
    __slots__ = ("request_id", "name")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    name: str
    def __init__(self, request_id: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class TriggerScheduleResponse(_message.Message):
    __slots__ = ("job_id", "queue")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    queue: str
    def __init__(self, job_id: _Optional[str] = ..., queue: _Optional[str] = ...) -> None: ...
