import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jobmesh.dlq.v1 import classification_pb2 as _classification_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class PatternAlert(_message.Message):
    __slots__ = ("alert_id", "pattern", "severity", "queue", "category", "count", "window", "message", "detected_at", "sample_dead_letter_ids", "suggested_action", "evidence", "sample_job_ids")
    ALERT_ID_FIELD_NUMBER: _ClassVar[int]
    PATTERN_FIELD_NUMBER: _ClassVar[int]
    SEVERITY_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    WINDOW_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    DETECTED_AT_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_DEAD_LETTER_IDS_FIELD_NUMBER: _ClassVar[int]
    SUGGESTED_ACTION_FIELD_NUMBER: _ClassVar[int]
    EVIDENCE_FIELD_NUMBER: _ClassVar[int]
    SAMPLE_JOB_IDS_FIELD_NUMBER: _ClassVar[int]
    alert_id: str
    pattern: _classification_pb2.PatternType
    severity: _classification_pb2.RiskLevel
    queue: str
    category: _classification_pb2.ErrorCategory
    count: int
    window: _duration_pb2.Duration
    message: str
    detected_at: _timestamp_pb2.Timestamp
    sample_dead_letter_ids: _containers.RepeatedScalarFieldContainer[str]
    suggested_action: str
    evidence: str
    sample_job_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, alert_id: _Optional[str] = ..., pattern: _Optional[_Union[_classification_pb2.PatternType, str]] = ..., severity: _Optional[_Union[_classification_pb2.RiskLevel, str]] = ..., queue: _Optional[str] = ..., category: _Optional[_Union[_classification_pb2.ErrorCategory, str]] = ..., count: _Optional[int] = ..., window: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., message: _Optional[str] = ..., detected_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., sample_dead_letter_ids: _Optional[_Iterable[str]] = ..., suggested_action: _Optional[str] = ..., evidence: _Optional[str] = ..., sample_job_ids: _Optional[_Iterable[str]] = ...) -> None: ...
