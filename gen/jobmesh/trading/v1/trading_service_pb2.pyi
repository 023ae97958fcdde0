import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jobmesh.auth.v1 import auth_pb2 as _auth_pb2
from jobmesh.jobs.v1 import trading_jobs_pb2 as _trading_jobs_pb2
from jobmesh.queue.v1 import queue_pb2 as _queue_pb2
from jobmesh.trading.v1 import strategy_pb2 as _strategy_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class DeployStrategyRequest(_message.Message):
    __slots__ = ("request_id", "strategy_name", "exchange", "symbol", "parameters", "risk_limits")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_NAME_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    RISK_LIMITS_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    strategy_name: str
    exchange: str
    symbol: str
    parameters: _struct_pb2.Struct
    risk_limits: _trading_jobs_pb2.RiskLimits
    def __init__(self, request_id: _Optional[str] = ..., strategy_name: _Optional[str] = ..., exchange: _Optional[str] = ..., symbol: _Optional[str] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., risk_limits: _Optional[_Union[_trading_jobs_pb2.RiskLimits, _Mapping]] = ...) -> None: ...

class DeployStrategyResponse(_message.Message):
    __slots__ = ("strategy",)
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    strategy: _strategy_pb2.Strategy
    def __init__(self, strategy: _Optional[_Union[_strategy_pb2.Strategy, _Mapping]] = ...) -> None: ...

class StopStrategyRequest(_message.Message):
    __slots__ = ("request_id", "strategy_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    strategy_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., strategy_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class StopStrategyResponse(_message.Message):
    __slots__ = ("strategy",)
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    strategy: _strategy_pb2.Strategy
    def __init__(self, strategy: _Optional[_Union[_strategy_pb2.Strategy, _Mapping]] = ...) -> None: ...

class GetStrategyRequest(_message.Message):
    __slots__ = ("strategy_id",)
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    strategy_id: str
    def __init__(self, strategy_id: _Optional[str] = ...) -> None: ...

class StrategyQueueStatus(_message.Message):
    __slots__ = ("related_queues", "total_related_jobs")
    RELATED_QUEUES_FIELD_NUMBER: _ClassVar[int]
    TOTAL_RELATED_JOBS_FIELD_NUMBER: _ClassVar[int]
    related_queues: _containers.RepeatedScalarFieldContainer[str]
    total_related_jobs: int
    def __init__(self, related_queues: _Optional[_Iterable[str]] = ..., total_related_jobs: _Optional[int] = ...) -> None: ...

class GetStrategyResponse(_message.Message):
    __slots__ = ("strategy", "recent_history", "queue_status")
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    RECENT_HISTORY_FIELD_NUMBER: _ClassVar[int]
    QUEUE_STATUS_FIELD_NUMBER: _ClassVar[int]
    strategy: _strategy_pb2.Strategy
    recent_history: _containers.RepeatedCompositeFieldContainer[_strategy_pb2.StrategyTransition]
    queue_status: StrategyQueueStatus
    def __init__(self, strategy: _Optional[_Union[_strategy_pb2.Strategy, _Mapping]] = ..., recent_history: _Optional[_Iterable[_Union[_strategy_pb2.StrategyTransition, _Mapping]]] = ..., queue_status: _Optional[_Union[StrategyQueueStatus, _Mapping]] = ...) -> None: ...

class ListStrategiesRequest(_message.Message):
    __slots__ = ("states", "page_size", "page_token", "strategy_name", "exchange", "symbol")
    STATES_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_NAME_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    states: _containers.RepeatedScalarFieldContainer[_strategy_pb2.StrategyState]
    page_size: int
    page_token: str
    strategy_name: str
    exchange: str
    symbol: str
    def __init__(self, states: _Optional[_Iterable[_Union[_strategy_pb2.StrategyState, str]]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ..., strategy_name: _Optional[str] = ..., exchange: _Optional[str] = ..., symbol: _Optional[str] = ...) -> None: ...

class ListStrategiesResponse(_message.Message):
    __slots__ = ("strategies", "next_page_token")
    STRATEGIES_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    strategies: _containers.RepeatedCompositeFieldContainer[_strategy_pb2.Strategy]
    next_page_token: str
    def __init__(self, strategies: _Optional[_Iterable[_Union[_strategy_pb2.Strategy, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetStrategyHistoryRequest(_message.Message):
    __slots__ = ("strategy_id", "page_size", "page_token")
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    strategy_id: str
    page_size: int
    page_token: str
    def __init__(self, strategy_id: _Optional[str] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class GetStrategyHistoryResponse(_message.Message):
    __slots__ = ("transitions", "next_page_token")
    TRANSITIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    transitions: _containers.RepeatedCompositeFieldContainer[_strategy_pb2.StrategyTransition]
    next_page_token: str
    def __init__(self, transitions: _Optional[_Iterable[_Union[_strategy_pb2.StrategyTransition, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class WatchStrategyRequest(_message.Message):
    __slots__ = ("strategy_id", "resume_token")
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    strategy_id: str
    resume_token: str
    def __init__(self, strategy_id: _Optional[str] = ..., resume_token: _Optional[str] = ...) -> None: ...

class WatchStrategyResponse(_message.Message):
    __slots__ = ("resume_token", "snapshot", "transition")
    RESUME_TOKEN_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    TRANSITION_FIELD_NUMBER: _ClassVar[int]
    resume_token: str
    snapshot: _strategy_pb2.Strategy
    transition: _strategy_pb2.StrategyTransition
    def __init__(self, resume_token: _Optional[str] = ..., snapshot: _Optional[_Union[_strategy_pb2.Strategy, _Mapping]] = ..., transition: _Optional[_Union[_strategy_pb2.StrategyTransition, _Mapping]] = ...) -> None: ...

class GetSystemStatusRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class StrategyStateCount(_message.Message):
    __slots__ = ("state", "count")
    STATE_FIELD_NUMBER: _ClassVar[int]
    COUNT_FIELD_NUMBER: _ClassVar[int]
    state: _strategy_pb2.StrategyState
    count: int
    def __init__(self, state: _Optional[_Union[_strategy_pb2.StrategyState, str]] = ..., count: _Optional[int] = ...) -> None: ...

class GetSystemStatusResponse(_message.Message):
    __slots__ = ("queues", "strategies", "redis_connected", "at")
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    STRATEGIES_FIELD_NUMBER: _ClassVar[int]
    REDIS_CONNECTED_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    queues: _containers.RepeatedCompositeFieldContainer[_queue_pb2.QueueStats]
    strategies: _containers.RepeatedCompositeFieldContainer[StrategyStateCount]
    redis_connected: bool
    at: _timestamp_pb2.Timestamp
    def __init__(self, queues: _Optional[_Iterable[_Union[_queue_pb2.QueueStats, _Mapping]]] = ..., strategies: _Optional[_Iterable[_Union[StrategyStateCount, _Mapping]]] = ..., redis_connected: _Optional[bool] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class EmergencyStopAllRequest(_message.Message):
    __slots__ = ("request_id", "reason")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    reason: str
    def __init__(self, request_id: _Optional[str] = ..., reason: _Optional[str] = ...) -> None: ...

class EmergencyStopAllResponse(_message.Message):
    __slots__ = ("stopped_strategy_ids",)
    STOPPED_STRATEGY_IDS_FIELD_NUMBER: _ClassVar[int]
    stopped_strategy_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, stopped_strategy_ids: _Optional[_Iterable[str]] = ...) -> None: ...
