from google.protobuf import struct_pb2 as _struct_pb2
from jobmesh.jobs.v1 import trading_jobs_pb2 as _trading_jobs_pb2
from jobmesh.jobs.v1 import trading_results_pb2 as _trading_results_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class StrategyExecutionCompleted(_message.Message):
    __slots__ = ("strategy_id", "profit", "orders_placed", "job_id", "strategy_name", "signal", "refused")
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    PROFIT_FIELD_NUMBER: _ClassVar[int]
    ORDERS_PLACED_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_NAME_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    strategy_id: str
    profit: str
    orders_placed: int
    job_id: str
    strategy_name: str
    signal: str
    refused: str
    def __init__(self, strategy_id: _Optional[str] = ..., profit: _Optional[str] = ..., orders_placed: _Optional[int] = ..., job_id: _Optional[str] = ..., strategy_name: _Optional[str] = ..., signal: _Optional[str] = ..., refused: _Optional[str] = ...) -> None: ...

class EmergencyStop(_message.Message):
    __slots__ = ("reason", "strategy_ids")
    REASON_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_IDS_FIELD_NUMBER: _ClassVar[int]
    reason: str
    strategy_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, reason: _Optional[str] = ..., strategy_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class ArbitrageDetectionCompleted(_message.Message):
    __slots__ = ("symbol", "exchange_pair", "opportunities", "job_id")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_PAIR_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITIES_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    exchange_pair: _containers.RepeatedScalarFieldContainer[str]
    opportunities: _containers.RepeatedCompositeFieldContainer[_trading_results_pb2.ArbitrageOpportunity]
    job_id: str
    def __init__(self, symbol: _Optional[str] = ..., exchange_pair: _Optional[_Iterable[str]] = ..., opportunities: _Optional[_Iterable[_Union[_trading_results_pb2.ArbitrageOpportunity, _Mapping]]] = ..., job_id: _Optional[str] = ...) -> None: ...

class PositionMonitoringCompleted(_message.Message):
    __slots__ = ("position_id", "exchange", "symbol", "monitoring_type", "triggered", "closed", "close_order", "realized_profit", "price", "level", "job_id")
    POSITION_ID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    MONITORING_TYPE_FIELD_NUMBER: _ClassVar[int]
    TRIGGERED_FIELD_NUMBER: _ClassVar[int]
    CLOSED_FIELD_NUMBER: _ClassVar[int]
    CLOSE_ORDER_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PROFIT_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    position_id: str
    exchange: str
    symbol: str
    monitoring_type: _trading_jobs_pb2.MonitoringType
    triggered: bool
    closed: bool
    close_order: _trading_results_pb2.Order
    realized_profit: str
    price: str
    level: str
    job_id: str
    def __init__(self, position_id: _Optional[str] = ..., exchange: _Optional[str] = ..., symbol: _Optional[str] = ..., monitoring_type: _Optional[_Union[_trading_jobs_pb2.MonitoringType, str]] = ..., triggered: _Optional[bool] = ..., closed: _Optional[bool] = ..., close_order: _Optional[_Union[_trading_results_pb2.Order, _Mapping]] = ..., realized_profit: _Optional[str] = ..., price: _Optional[str] = ..., level: _Optional[str] = ..., job_id: _Optional[str] = ...) -> None: ...

class RiskAnalysisCompleted(_message.Message):
    __slots__ = ("analysis_type", "portfolio_id", "value_at_risk", "expected_shortfall", "confidence", "horizon_days", "method", "portfolio_value", "figures", "job_id")
    ANALYSIS_TYPE_FIELD_NUMBER: _ClassVar[int]
    PORTFOLIO_ID_FIELD_NUMBER: _ClassVar[int]
    VALUE_AT_RISK_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SHORTFALL_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    HORIZON_DAYS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    PORTFOLIO_VALUE_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    analysis_type: _trading_jobs_pb2.AnalysisType
    portfolio_id: str
    value_at_risk: str
    expected_shortfall: str
    confidence: float
    horizon_days: int
    method: str
    portfolio_value: str
    figures: _struct_pb2.Struct
    job_id: str
    def __init__(self, analysis_type: _Optional[_Union[_trading_jobs_pb2.AnalysisType, str]] = ..., portfolio_id: _Optional[str] = ..., value_at_risk: _Optional[str] = ..., expected_shortfall: _Optional[str] = ..., confidence: _Optional[float] = ..., horizon_days: _Optional[int] = ..., method: _Optional[str] = ..., portfolio_value: _Optional[str] = ..., figures: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., job_id: _Optional[str] = ...) -> None: ...
