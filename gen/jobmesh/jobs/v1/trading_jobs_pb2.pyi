import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MonitoringType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    MONITORING_TYPE_UNSPECIFIED: _ClassVar[MonitoringType]
    MONITORING_TYPE_STOP_LOSS: _ClassVar[MonitoringType]
    MONITORING_TYPE_TAKE_PROFIT: _ClassVar[MonitoringType]
    MONITORING_TYPE_TRAILING_STOP: _ClassVar[MonitoringType]
    MONITORING_TYPE_RISK_CHECK: _ClassVar[MonitoringType]

class AnalysisType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ANALYSIS_TYPE_UNSPECIFIED: _ClassVar[AnalysisType]
    ANALYSIS_TYPE_PORTFOLIO: _ClassVar[AnalysisType]
    ANALYSIS_TYPE_POSITION: _ClassVar[AnalysisType]
    ANALYSIS_TYPE_MARKET: _ClassVar[AnalysisType]
    ANALYSIS_TYPE_VAR: _ClassVar[AnalysisType]
MONITORING_TYPE_UNSPECIFIED: MonitoringType
MONITORING_TYPE_STOP_LOSS: MonitoringType
MONITORING_TYPE_TAKE_PROFIT: MonitoringType
MONITORING_TYPE_TRAILING_STOP: MonitoringType
MONITORING_TYPE_RISK_CHECK: MonitoringType
ANALYSIS_TYPE_UNSPECIFIED: AnalysisType
ANALYSIS_TYPE_PORTFOLIO: AnalysisType
ANALYSIS_TYPE_POSITION: AnalysisType
ANALYSIS_TYPE_MARKET: AnalysisType
ANALYSIS_TYPE_VAR: AnalysisType

class RiskLimits(_message.Message):
    __slots__ = ("max_position_size", "max_loss", "max_leverage")
    MAX_POSITION_SIZE_FIELD_NUMBER: _ClassVar[int]
    MAX_LOSS_FIELD_NUMBER: _ClassVar[int]
    MAX_LEVERAGE_FIELD_NUMBER: _ClassVar[int]
    max_position_size: _struct_pb2.Value
    max_loss: _struct_pb2.Value
    max_leverage: _struct_pb2.Value
    def __init__(self, max_position_size: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., max_loss: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., max_leverage: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...

class StrategyExecutionJob(_message.Message):
    __slots__ = ("id", "timestamp", "strategy_name", "exchange", "symbol", "parameters", "risk_limits", "strategy_id")
    ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_NAME_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    RISK_LIMITS_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    timestamp: _timestamp_pb2.Timestamp
    strategy_name: str
    exchange: str
    symbol: str
    parameters: _struct_pb2.Struct
    risk_limits: RiskLimits
    strategy_id: str
    def __init__(self, id: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., strategy_name: _Optional[str] = ..., exchange: _Optional[str] = ..., symbol: _Optional[str] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., risk_limits: _Optional[_Union[RiskLimits, _Mapping]] = ..., strategy_id: _Optional[str] = ...) -> None: ...

class ArbitrageDetectionJob(_message.Message):
    __slots__ = ("id", "timestamp", "exchange_pair", "symbol", "min_profit_percentage", "max_volume", "parameters")
    ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_PAIR_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    MIN_PROFIT_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    MAX_VOLUME_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    id: str
    timestamp: _timestamp_pb2.Timestamp
    exchange_pair: _containers.RepeatedScalarFieldContainer[str]
    symbol: str
    min_profit_percentage: float
    max_volume: _struct_pb2.Value
    parameters: _struct_pb2.Struct
    def __init__(self, id: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., exchange_pair: _Optional[_Iterable[str]] = ..., symbol: _Optional[str] = ..., min_profit_percentage: _Optional[float] = ..., max_volume: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class PositionMonitoringJob(_message.Message):
    __slots__ = ("id", "timestamp", "position_id", "exchange", "symbol", "monitoring_type", "thresholds", "parameters")
    class ThresholdsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: _struct_pb2.Value
        def __init__(self, key: _Optional[str] = ..., value: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
    ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    POSITION_ID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    MONITORING_TYPE_FIELD_NUMBER: _ClassVar[int]
    THRESHOLDS_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    id: str
    timestamp: _timestamp_pb2.Timestamp
    position_id: str
    exchange: str
    symbol: str
    monitoring_type: MonitoringType
    thresholds: _containers.MessageMap[str, _struct_pb2.Value]
    parameters: _struct_pb2.Struct
    def __init__(self, id: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., position_id: _Optional[str] = ..., exchange: _Optional[str] = ..., symbol: _Optional[str] = ..., monitoring_type: _Optional[_Union[MonitoringType, str]] = ..., thresholds: _Optional[_Mapping[str, _struct_pb2.Value]] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class RiskScope(_message.Message):
    __slots__ = ("positions", "timeframe", "portfolio_id")
    POSITIONS_FIELD_NUMBER: _ClassVar[int]
    TIMEFRAME_FIELD_NUMBER: _ClassVar[int]
    PORTFOLIO_ID_FIELD_NUMBER: _ClassVar[int]
    positions: _containers.RepeatedScalarFieldContainer[str]
    timeframe: str
    portfolio_id: str
    def __init__(self, positions: _Optional[_Iterable[str]] = ..., timeframe: _Optional[str] = ..., portfolio_id: _Optional[str] = ...) -> None: ...

class RiskAnalysisJob(_message.Message):
    __slots__ = ("id", "timestamp", "analysis_type", "scope", "parameters")
    ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    ANALYSIS_TYPE_FIELD_NUMBER: _ClassVar[int]
    SCOPE_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    id: str
    timestamp: _timestamp_pb2.Timestamp
    analysis_type: AnalysisType
    scope: RiskScope
    parameters: _struct_pb2.Struct
    def __init__(self, id: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., analysis_type: _Optional[_Union[AnalysisType, str]] = ..., scope: _Optional[_Union[RiskScope, _Mapping]] = ..., parameters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
