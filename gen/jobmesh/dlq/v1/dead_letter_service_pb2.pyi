import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from jobmesh.auth.v1 import auth_pb2 as _auth_pb2
from jobmesh.dlq.v1 import alert_pb2 as _alert_pb2
from jobmesh.dlq.v1 import classification_pb2 as _classification_pb2
from jobmesh.dlq.v1 import dead_letter_pb2 as _dead_letter_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetDeadLetterStatsRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class GetDeadLetterStatsResponse(_message.Message):
    __slots__ = ("stats",)
    STATS_FIELD_NUMBER: _ClassVar[int]
    stats: _dead_letter_pb2.DeadLetterStats
    def __init__(self, stats: _Optional[_Union[_dead_letter_pb2.DeadLetterStats, _Mapping]] = ...) -> None: ...

class ListDeadLettersRequest(_message.Message):
    __slots__ = ("queue", "category", "min_risk", "status", "page_size", "page_token", "strategy_id")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    MIN_RISK_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    queue: str
    category: _classification_pb2.ErrorCategory
    min_risk: _classification_pb2.RiskLevel
    status: _dead_letter_pb2.DeadLetterStatus
    page_size: int
    page_token: str
    strategy_id: str
    def __init__(self, queue: _Optional[str] = ..., category: _Optional[_Union[_classification_pb2.ErrorCategory, str]] = ..., min_risk: _Optional[_Union[_classification_pb2.RiskLevel, str]] = ..., status: _Optional[_Union[_dead_letter_pb2.DeadLetterStatus, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., strategy_id: _Optional[str] = ...) -> None: ...

class ListDeadLettersResponse(_message.Message):
    __slots__ = ("dead_letters", "next_page_token")
    DEAD_LETTERS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    dead_letters: _containers.RepeatedCompositeFieldContainer[_dead_letter_pb2.DeadLetter]
    next_page_token: str
    def __init__(self, dead_letters: _Optional[_Iterable[_Union[_dead_letter_pb2.DeadLetter, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetDeadLetterRequest(_message.Message):
    __slots__ = ("dead_letter_id",)
    DEAD_LETTER_ID_FIELD_NUMBER: _ClassVar[int]
    dead_letter_id: str
    def __init__(self, dead_letter_id: _Optional[str] = ...) -> None: ...

class GetDeadLetterResponse(_message.Message):
    __slots__ = ("dead_letter",)
    DEAD_LETTER_FIELD_NUMBER: _ClassVar[int]
    dead_letter: _dead_letter_pb2.DeadLetter
    def __init__(self, dead_letter: _Optional[_Union[_dead_letter_pb2.DeadLetter, _Mapping]] = ...) -> None: ...

class RetryDeadLetterRequest(_message.Message):
    __slots__ = ("request_id", "dead_letter_id", "delay")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_ID_FIELD_NUMBER: _ClassVar[int]
    DELAY_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    dead_letter_id: str
    delay: _duration_pb2.Duration
    def __init__(self, request_id: _Optional[str] = ..., dead_letter_id: _Optional[str] = ..., delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class RetryDeadLetterResponse(_message.Message):
    __slots__ = ("dead_letter",)
    DEAD_LETTER_FIELD_NUMBER: _ClassVar[int]
    dead_letter: _dead_letter_pb2.DeadLetter
    def __init__(self, dead_letter: _Optional[_Union[_dead_letter_pb2.DeadLetter, _Mapping]] = ...) -> None: ...

class DiscardDeadLetterRequest(_message.Message):
    __slots__ = ("request_id", "dead_letter_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    dead_letter_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., dead_letter_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class DiscardDeadLetterResponse(_message.Message):
    __slots__ = ("dead_letter",)
    DEAD_LETTER_FIELD_NUMBER: _ClassVar[int]
    dead_letter: _dead_letter_pb2.DeadLetter
    def __init__(self, dead_letter: _Optional[_Union[_dead_letter_pb2.DeadLetter, _Mapping]] = ...) -> None: ...

class RedriveDeadLettersRequest(_message.Message):
    __slots__ = ("request_id", "queue", "category", "limit", "per_second")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    PER_SECOND_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    queue: str
    category: _classification_pb2.ErrorCategory
    limit: int
    per_second: int
    def __init__(self, request_id: _Optional[str] = ..., queue: _Optional[str] = ..., category: _Optional[_Union[_classification_pb2.ErrorCategory, str]] = ..., limit: _Optional[int] = ..., per_second: _Optional[int] = ...) -> None: ...

class RedriveDeadLettersResponse(_message.Message):
    __slots__ = ("redriven", "dead_letter_ids")
    REDRIVEN_FIELD_NUMBER: _ClassVar[int]
    DEAD_LETTER_IDS_FIELD_NUMBER: _ClassVar[int]
    redriven: int
    dead_letter_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, redriven: _Optional[int] = ..., dead_letter_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class WatchAlertsRequest(_message.Message):
    __slots__ = ("min_severity", "resume_token")
    MIN_SEVERITY_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    min_severity: _classification_pb2.RiskLevel
    resume_token: str
    def __init__(self, min_severity: _Optional[_Union[_classification_pb2.RiskLevel, str]] = ..., resume_token: _Optional[str] = ...) -> None: ...

class WatchAlertsResponse(_message.Message):
    __slots__ = ("resume_token", "snapshot", "alert")
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    ALERT_FIELD_NUMBER: _ClassVar[int]
    resume_token: str
    snapshot: AlertSnapshot
    alert: _alert_pb2.PatternAlert
    def __init__(self, resume_token: _Optional[str] = ..., snapshot: _Optional[_Union[AlertSnapshot, _Mapping]] = ..., alert: _Optional[_Union[_alert_pb2.PatternAlert, _Mapping]] = ...) -> None: ...

class AlertSnapshot(_message.Message):
    __slots__ = ("active_alerts", "stats")
    ACTIVE_ALERTS_FIELD_NUMBER: _ClassVar[int]
    STATS_FIELD_NUMBER: _ClassVar[int]
    active_alerts: _containers.RepeatedCompositeFieldContainer[_alert_pb2.PatternAlert]
    stats: _dead_letter_pb2.DeadLetterStats
    def __init__(self, active_alerts: _Optional[_Iterable[_Union[_alert_pb2.PatternAlert, _Mapping]]] = ..., stats: _Optional[_Union[_dead_letter_pb2.DeadLetterStats, _Mapping]] = ...) -> None: ...
