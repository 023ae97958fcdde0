import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jobmesh.dlq.v1 import classification_pb2 as _classification_pb2
from jobmesh.jobs.v1 import failure_pb2 as _failure_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeadLetterStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    DEAD_LETTER_STATUS_UNSPECIFIED: _ClassVar[DeadLetterStatus]
    DEAD_LETTER_STATUS_PENDING: _ClassVar[DeadLetterStatus]
    DEAD_LETTER_STATUS_RETRY_SCHEDULED: _ClassVar[DeadLetterStatus]
    DEAD_LETTER_STATUS_RETRIED: _ClassVar[DeadLetterStatus]
    DEAD_LETTER_STATUS_DISCARDED: _ClassVar[DeadLetterStatus]
DEAD_LETTER_STATUS_UNSPECIFIED: DeadLetterStatus
DEAD_LETTER_STATUS_PENDING: DeadLetterStatus
DEAD_LETTER_STATUS_RETRY_SCHEDULED: DeadLetterStatus
DEAD_LETTER_STATUS_RETRIED: DeadLetterStatus
DEAD_LETTER_STATUS_DISCARDED: DeadLetterStatus

class DeadLetter(_message.Message):
    __slots__ = ("dead_letter_id", "failed_job", "category", "risk", "recovery", "status", "retry_at", "decision_reason", "received_at", "updated_at", "retried_job_id", "retries", "strategy_id")
    DEAD_LETTER_ID_FIELD_NUMBER: _ClassVar[int]
    FAILED_JOB_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    RISK_FIELD_NUMBER: _ClassVar[int]
    RECOVERY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    RETRY_AT_FIELD_NUMBER: _ClassVar[int]
    DECISION_REASON_FIELD_NUMBER: _ClassVar[int]
    RECEIVED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    RETRIED_JOB_ID_FIELD_NUMBER: _ClassVar[int]
    RETRIES_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    dead_letter_id: str
    failed_job: _failure_pb2.FailedJob
    category: _classification_pb2.ErrorCategory
    risk: _classification_pb2.RiskLevel
    recovery: _classification_pb2.RecoveryStrategy
    status: DeadLetterStatus
    retry_at: _timestamp_pb2.Timestamp
    decision_reason: str
    received_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    retried_job_id: str
    retries: int
    strategy_id: str
    def __init__(self, dead_letter_id: _Optional[str] = ..., failed_job: _Optional[_Union[_failure_pb2.FailedJob, _Mapping]] = ..., category: _Optional[_Union[_classification_pb2.ErrorCategory, str]] = ..., risk: _Optional[_Union[_classification_pb2.RiskLevel, str]] = ..., recovery: _Optional[_Union[_classification_pb2.RecoveryStrategy, str]] = ..., status: _Optional[_Union[DeadLetterStatus, str]] = ..., retry_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., decision_reason: _Optional[str] = ..., received_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., retried_job_id: _Optional[str] = ..., retries: _Optional[int] = ..., strategy_id: _Optional[str] = ...) -> None: ...

class DeadLetterStats(_message.Message):
    __slots__ = ("total", "by_queue", "by_category", "by_risk", "by_status", "by_strategy")
    class ByQueueEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByCategoryEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByRiskEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByStatusEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    class ByStrategyEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    TOTAL_FIELD_NUMBER: _ClassVar[int]
    BY_QUEUE_FIELD_NUMBER: _ClassVar[int]
    BY_CATEGORY_FIELD_NUMBER: _ClassVar[int]
    BY_RISK_FIELD_NUMBER: _ClassVar[int]
    BY_STATUS_FIELD_NUMBER: _ClassVar[int]
    BY_STRATEGY_FIELD_NUMBER: _ClassVar[int]
    total: int
    by_queue: _containers.ScalarMap[str, int]
    by_category: _containers.ScalarMap[str, int]
    by_risk: _containers.ScalarMap[str, int]
    by_status: _containers.ScalarMap[str, int]
    by_strategy: _containers.ScalarMap[str, int]
    def __init__(self, total: _Optional[int] = ..., by_queue: _Optional[_Mapping[str, int]] = ..., by_category: _Optional[_Mapping[str, int]] = ..., by_risk: _Optional[_Mapping[str, int]] = ..., by_status: _Optional[_Mapping[str, int]] = ..., by_strategy: _Optional[_Mapping[str, int]] = ...) -> None: ...

class DeadLettersTrimmed(_message.Message):
    __slots__ = ("removed", "cause", "older_than", "kept")
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    OLDER_THAN_FIELD_NUMBER: _ClassVar[int]
    KEPT_FIELD_NUMBER: _ClassVar[int]
    removed: int
    cause: str
    older_than: _timestamp_pb2.Timestamp
    kept: int
    def __init__(self, removed: _Optional[int] = ..., cause: _Optional[str] = ..., older_than: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., kept: _Optional[int] = ...) -> None: ...
