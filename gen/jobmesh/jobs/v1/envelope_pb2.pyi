import datetime

from google.protobuf import duration_pb2 as _duration_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jobmesh.jobs.v1 import financial_jobs_pb2 as _financial_jobs_pb2
from jobmesh.jobs.v1 import probe_pb2 as _probe_pb2
from jobmesh.jobs.v1 import trading_jobs_pb2 as _trading_jobs_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class JobPriority(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_PRIORITY_UNSPECIFIED: _ClassVar[JobPriority]
    JOB_PRIORITY_LOW: _ClassVar[JobPriority]
    JOB_PRIORITY_NORMAL: _ClassVar[JobPriority]
    JOB_PRIORITY_HIGH: _ClassVar[JobPriority]
    JOB_PRIORITY_CRITICAL: _ClassVar[JobPriority]

class JobState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    JOB_STATE_UNSPECIFIED: _ClassVar[JobState]
    JOB_STATE_WAITING: _ClassVar[JobState]
    JOB_STATE_ACTIVE: _ClassVar[JobState]
    JOB_STATE_DELAYED: _ClassVar[JobState]
    JOB_STATE_PRIORITIZED: _ClassVar[JobState]
    JOB_STATE_COMPLETED: _ClassVar[JobState]
    JOB_STATE_FAILED: _ClassVar[JobState]
    JOB_STATE_PAUSED: _ClassVar[JobState]
    JOB_STATE_SUPERSEDED: _ClassVar[JobState]

class BackoffType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    BACKOFF_TYPE_UNSPECIFIED: _ClassVar[BackoffType]
    BACKOFF_TYPE_FIXED: _ClassVar[BackoffType]
    BACKOFF_TYPE_EXPONENTIAL: _ClassVar[BackoffType]
JOB_PRIORITY_UNSPECIFIED: JobPriority
JOB_PRIORITY_LOW: JobPriority
JOB_PRIORITY_NORMAL: JobPriority
JOB_PRIORITY_HIGH: JobPriority
JOB_PRIORITY_CRITICAL: JobPriority
JOB_STATE_UNSPECIFIED: JobState
JOB_STATE_WAITING: JobState
JOB_STATE_ACTIVE: JobState
JOB_STATE_DELAYED: JobState
JOB_STATE_PRIORITIZED: JobState
JOB_STATE_COMPLETED: JobState
JOB_STATE_FAILED: JobState
JOB_STATE_PAUSED: JobState
JOB_STATE_SUPERSEDED: JobState
BACKOFF_TYPE_UNSPECIFIED: BackoffType
BACKOFF_TYPE_FIXED: BackoffType
BACKOFF_TYPE_EXPONENTIAL: BackoffType

class Backoff(_message.Message):
    __slots__ = ("type", "delay", "max_delay", "jitter")
    TYPE_FIELD_NUMBER: _ClassVar[int]
    DELAY_FIELD_NUMBER: _ClassVar[int]
    MAX_DELAY_FIELD_NUMBER: _ClassVar[int]
    JITTER_FIELD_NUMBER: _ClassVar[int]
    type: BackoffType
    delay: _duration_pb2.Duration
    max_delay: _duration_pb2.Duration
    jitter: float
    def __init__(self, type: _Optional[_Union[BackoffType, str]] = ..., delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., max_delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., jitter: _Optional[float] = ...) -> None: ...

class KeepJobs(_message.Message):
    __slots__ = ("count", "age")
    COUNT_FIELD_NUMBER: _ClassVar[int]
    AGE_FIELD_NUMBER: _ClassVar[int]
    count: int
    age: _duration_pb2.Duration
    def __init__(self, count: _Optional[int] = ..., age: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ...) -> None: ...

class Retention(_message.Message):
    __slots__ = ("remove", "keep")
    REMOVE_FIELD_NUMBER: _ClassVar[int]
    KEEP_FIELD_NUMBER: _ClassVar[int]
    remove: bool
    keep: KeepJobs
    def __init__(self, remove: _Optional[bool] = ..., keep: _Optional[_Union[KeepJobs, _Mapping]] = ...) -> None: ...

class JobOptions(_message.Message):
    __slots__ = ("priority", "delay", "attempts", "backoff", "job_id", "timeout", "remove_on_complete", "remove_on_fail", "deadline", "group_key", "supersede_waiting")
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    DELAY_FIELD_NUMBER: _ClassVar[int]
    ATTEMPTS_FIELD_NUMBER: _ClassVar[int]
    BACKOFF_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    REMOVE_ON_COMPLETE_FIELD_NUMBER: _ClassVar[int]
    REMOVE_ON_FAIL_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    GROUP_KEY_FIELD_NUMBER: _ClassVar[int]
    SUPERSEDE_WAITING_FIELD_NUMBER: _ClassVar[int]
    priority: JobPriority
    delay: _duration_pb2.Duration
    attempts: int
    backoff: Backoff
    job_id: str
    timeout: _duration_pb2.Duration
    remove_on_complete: Retention
    remove_on_fail: Retention
    deadline: _timestamp_pb2.Timestamp
    group_key: str
    supersede_waiting: bool
    def __init__(self, priority: _Optional[_Union[JobPriority, str]] = ..., delay: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., attempts: _Optional[int] = ..., backoff: _Optional[_Union[Backoff, _Mapping]] = ..., job_id: _Optional[str] = ..., timeout: _Optional[_Union[datetime.timedelta, _duration_pb2.Duration, _Mapping]] = ..., remove_on_complete: _Optional[_Union[Retention, _Mapping]] = ..., remove_on_fail: _Optional[_Union[Retention, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., group_key: _Optional[str] = ..., supersede_waiting: _Optional[bool] = ...) -> None: ...

class TraceContext(_message.Message):
    __slots__ = ("traceparent", "tracestate")
    TRACEPARENT_FIELD_NUMBER: _ClassVar[int]
    TRACESTATE_FIELD_NUMBER: _ClassVar[int]
    traceparent: str
    tracestate: str
    def __init__(self, traceparent: _Optional[str] = ..., tracestate: _Optional[str] = ...) -> None: ...

class JobPayload(_message.Message):
    __slots__ = ("strategy_execution", "arbitrage_detection", "position_monitoring", "risk_analysis", "transaction_sync", "account_reconciliation", "report_generation", "categorization", "probe")
    STRATEGY_EXECUTION_FIELD_NUMBER: _ClassVar[int]
    ARBITRAGE_DETECTION_FIELD_NUMBER: _ClassVar[int]
    POSITION_MONITORING_FIELD_NUMBER: _ClassVar[int]
    RISK_ANALYSIS_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_SYNC_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_RECONCILIATION_FIELD_NUMBER: _ClassVar[int]
    REPORT_GENERATION_FIELD_NUMBER: _ClassVar[int]
    CATEGORIZATION_FIELD_NUMBER: _ClassVar[int]
    PROBE_FIELD_NUMBER: _ClassVar[int]
    strategy_execution: _trading_jobs_pb2.StrategyExecutionJob
    arbitrage_detection: _trading_jobs_pb2.ArbitrageDetectionJob
    position_monitoring: _trading_jobs_pb2.PositionMonitoringJob
    risk_analysis: _trading_jobs_pb2.RiskAnalysisJob
    transaction_sync: _financial_jobs_pb2.TransactionSyncJob
    account_reconciliation: _financial_jobs_pb2.AccountReconciliationJob
    report_generation: _financial_jobs_pb2.ReportGenerationJob
    categorization: _financial_jobs_pb2.CategorizationJob
    probe: _probe_pb2.ProbeJob
    def __init__(self, strategy_execution: _Optional[_Union[_trading_jobs_pb2.StrategyExecutionJob, _Mapping]] = ..., arbitrage_detection: _Optional[_Union[_trading_jobs_pb2.ArbitrageDetectionJob, _Mapping]] = ..., position_monitoring: _Optional[_Union[_trading_jobs_pb2.PositionMonitoringJob, _Mapping]] = ..., risk_analysis: _Optional[_Union[_trading_jobs_pb2.RiskAnalysisJob, _Mapping]] = ..., transaction_sync: _Optional[_Union[_financial_jobs_pb2.TransactionSyncJob, _Mapping]] = ..., account_reconciliation: _Optional[_Union[_financial_jobs_pb2.AccountReconciliationJob, _Mapping]] = ..., report_generation: _Optional[_Union[_financial_jobs_pb2.ReportGenerationJob, _Mapping]] = ..., categorization: _Optional[_Union[_financial_jobs_pb2.CategorizationJob, _Mapping]] = ..., probe: _Optional[_Union[_probe_pb2.ProbeJob, _Mapping]] = ...) -> None: ...

class Job(_message.Message):
    __slots__ = ("id", "queue", "attempt", "enqueued_at", "deadline", "priority", "trace", "payload", "options", "task_name")
    ID_FIELD_NUMBER: _ClassVar[int]
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    ATTEMPT_FIELD_NUMBER: _ClassVar[int]
    ENQUEUED_AT_FIELD_NUMBER: _ClassVar[int]
    DEADLINE_FIELD_NUMBER: _ClassVar[int]
    PRIORITY_FIELD_NUMBER: _ClassVar[int]
    TRACE_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    TASK_NAME_FIELD_NUMBER: _ClassVar[int]
    id: str
    queue: str
    attempt: int
    enqueued_at: _timestamp_pb2.Timestamp
    deadline: _timestamp_pb2.Timestamp
    priority: JobPriority
    trace: TraceContext
    payload: JobPayload
    options: JobOptions
    task_name: str
    def __init__(self, id: _Optional[str] = ..., queue: _Optional[str] = ..., attempt: _Optional[int] = ..., enqueued_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., deadline: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., priority: _Optional[_Union[JobPriority, str]] = ..., trace: _Optional[_Union[TraceContext, _Mapping]] = ..., payload: _Optional[_Union[JobPayload, _Mapping]] = ..., options: _Optional[_Union[JobOptions, _Mapping]] = ..., task_name: _Optional[str] = ...) -> None: ...
