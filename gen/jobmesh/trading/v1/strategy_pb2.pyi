import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jobmesh.jobs.v1 import trading_jobs_pb2 as _trading_jobs_pb2
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StrategyState(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STRATEGY_STATE_UNSPECIFIED: _ClassVar[StrategyState]
    STRATEGY_STATE_IDLE: _ClassVar[StrategyState]
    STRATEGY_STATE_ANALYZING: _ClassVar[StrategyState]
    STRATEGY_STATE_PREPARING: _ClassVar[StrategyState]
    STRATEGY_STATE_EXECUTING: _ClassVar[StrategyState]
    STRATEGY_STATE_MONITORING: _ClassVar[StrategyState]
    STRATEGY_STATE_COMPLETED: _ClassVar[StrategyState]
    STRATEGY_STATE_ERROR: _ClassVar[StrategyState]
    STRATEGY_STATE_STOPPING: _ClassVar[StrategyState]
STRATEGY_STATE_UNSPECIFIED: StrategyState
STRATEGY_STATE_IDLE: StrategyState
STRATEGY_STATE_ANALYZING: StrategyState
STRATEGY_STATE_PREPARING: StrategyState
STRATEGY_STATE_EXECUTING: StrategyState
STRATEGY_STATE_MONITORING: StrategyState
STRATEGY_STATE_COMPLETED: StrategyState
STRATEGY_STATE_ERROR: StrategyState
STRATEGY_STATE_STOPPING: StrategyState

class Strategy(_message.Message):
    __slots__ = ("strategy_id", "strategy_name", "exchange", "symbol", "parameters", "risk_limits", "state", "progress", "metadata", "deployed_at", "updated_at", "version", "error")
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_NAME_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    RISK_LIMITS_FIELD_NUMBER: _ClassVar[int]
    STATE_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    DEPLOYED_AT_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    strategy_id: str
    strategy_name: str
    exchange: str
    symbol: str
    parameters: _struct_pb2.Struct
    risk_limits: _trading_jobs_pb2.RiskLimits
    state: StrategyState
    progress: float
    metadata: _struct_pb2.Struct
    deployed_at: _timestamp_pb2.Timestamp
    updated_at: _timestamp_pb2.Timestamp
    version: int
    error: str
    def __init__(self, strategy_id: _Optional[str] = ..., strategy_name: _Optional[str] = ..., exchange: _Optional[str] = ..., symbol: _Optional[str] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., risk_limits: _Optional[_Union[_trading_jobs_pb2.RiskLimits, _Mapping]] = ..., state: _Optional[_Union[StrategyState, str]] = ..., progress: _Optional[float] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., deployed_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., updated_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., error: _Optional[str] = ...) -> None: ...

class StrategyTransition(_message.Message):
    __slots__ = ("from_state", "to_state", "trigger", "reason", "at", "version", "progress")
    FROM_STATE_FIELD_NUMBER: _ClassVar[int]
    TO_STATE_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    PROGRESS_FIELD_NUMBER: _ClassVar[int]
    from_state: StrategyState
    to_state: StrategyState
    trigger: str
    reason: str
    at: _timestamp_pb2.Timestamp
    version: int
    progress: float
    def __init__(self, from_state: _Optional[_Union[StrategyState, str]] = ..., to_state: _Optional[_Union[StrategyState, str]] = ..., trigger: _Optional[str] = ..., reason: _Optional[str] = ..., at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., version: _Optional[int] = ..., progress: _Optional[float] = ...) -> None: ...

class StrategyStateChanged(_message.Message):
    __slots__ = ("strategy_id", "transition", "metadata")
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSITION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    strategy_id: str
    transition: StrategyTransition
    metadata: _struct_pb2.Struct
    def __init__(self, strategy_id: _Optional[str] = ..., transition: _Optional[_Union[StrategyTransition, _Mapping]] = ..., metadata: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class StrategyDeployed(_message.Message):
    __slots__ = ("strategy",)
    STRATEGY_FIELD_NUMBER: _ClassVar[int]
    strategy: Strategy
    def __init__(self, strategy: _Optional[_Union[Strategy, _Mapping]] = ...) -> None: ...
