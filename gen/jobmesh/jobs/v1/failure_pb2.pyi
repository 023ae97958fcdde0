import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jobmesh.jobs.v1 import envelope_pb2 as _envelope_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeadLetterReason(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEAD_LETTER_REASON_UNSPECIFIED: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_ATTEMPTS_EXHAUSTED: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_UNRECOVERABLE: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_DELIVERIES_EXCEEDED: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_UNKNOWN_TASK: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_UNDECODABLE: _ClassVar[DeadLetterReason]
    DEAD_LETTER_REASON_DEADLINE_EXCEEDED: _ClassVar[DeadLetterReason]
DEAD_LETTER_REASON_UNSPECIFIED: DeadLetterReason
DEAD_LETTER_REASON_ATTEMPTS_EXHAUSTED: DeadLetterReason
DEAD_LETTER_REASON_UNRECOVERABLE: DeadLetterReason
DEAD_LETTER_REASON_DELIVERIES_EXCEEDED: DeadLetterReason
DEAD_LETTER_REASON_UNKNOWN_TASK: DeadLetterReason
DEAD_LETTER_REASON_UNDECODABLE: DeadLetterReason
DEAD_LETTER_REASON_DEADLINE_EXCEEDED: DeadLetterReason

class AttemptError(_message.Message):
    __slots__ = ("attempt", "error_type", "message", "stack", "started_at", "failed_at", "worker", "error_bases")
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    ERROR_TYPE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    STACK_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    FAILED_AT_FIELD_NUMBER: _ClassVar[int]
    WORKER_FIELD_NUMBER: _ClassVar[int]
    ERROR_BASES_FIELD_NUMBER: _ClassVar[int]
    attempt: int
    error_type: str
    message: str
    stack: str
    started_at: _timestamp_pb2.Timestamp
    failed_at: _timestamp_pb2.Timestamp
    worker: str
    error_bases: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, attempt: _Optional[int] = ..., error_type: _Optional[str] = ..., message: _Optional[str] = ..., stack: _Optional[str] = ..., started_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., failed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., worker: _Optional[str] = ..., error_bases: _Optional[_Iterable[str]] = ...) -> None: ...

class Redelivery(_message.Message):
    __slots__ = ("delivery", "lost_by", "idle", "reclaimed_at")
    DELIVERY_FIELD_NUMBER: _ClassVar[int]
    LOST_BY_FIELD_NUMBER: _ClassVar[int]
    IDLE_FIELD_NUMBER: _ClassVar[int]
    RECLAIMED_AT_FIELD_NUMBER: _ClassVar[int]
    delivery: int
    lost_by: str
    idle: _duration_pb2.Duration
    reclaimed_at: _timestamp_pb2.Timestamp
    def __init__(self, delivery: _Optional[int] = ..., lost_by: _Optional[str] = ..., idle: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., reclaimed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class FailedJob(_message.Message):
    __slots__ = ("job", "reason", "errors", "redeliveries", "deliveries", "enqueued_at", "dead_lettered_at", "queue", "job_id", "raw_envelope", "detail", "attempts_made")
    JOB_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    REDELIVERIES_FIELD_NUMBER: _ClassVar[int]
    DELIVERIES_FIELD_NUMBER: _ClassVar[int]
    ENQUEUED_AT_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTERED_AT_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    RAW_ENVELOPE_FIELD_NUMBER: _ClassVar[int]
    DETAIL_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_MADE_FIELD_NUMBER: _ClassVar[int]
    job: _envelope_pb2.Job
    reason: DeadLetterReason
    errors: _containers.RepeatedCompositeFieldContainer[AttemptError]
    redeliveries: _containers.RepeatedCompositeFieldContainer[Redelivery]
    deliveries: int
    enqueued_at: _timestamp_pb2.Timestamp
    dead_lettered_at: _timestamp_pb2.Timestamp
    queue: str
    job_id: str
    raw_envelope: bytes
    detail: str
    attempts_made: int
    def __init__(self, job: _Optional[_Union[_envelope_pb2.Job, _Mapping]] = ..., reason: _Optional[_Union[DeadLetterReason, str]] = ..., errors: _Optional[_Iterable[_Union[AttemptError, _Mapping]]] = ..., redeliveries: _Optional[_Iterable[_Union[Redelivery, _Mapping]]] = ..., deliveries: _Optional[int] = ..., enqueued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., dead_lettered_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., queue: _Optional[str] = ..., job_id: _Optional[str] = ..., raw_envelope: _Optional[bytes] = ..., detail: _Optional[str] = ..., attempts_made: _Optional[int] = ...) -> None: ...
