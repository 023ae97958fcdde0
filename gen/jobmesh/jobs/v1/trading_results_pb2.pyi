import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jobmesh.jobs.v1 import trading_jobs_pb2 as _trading_jobs_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Order(_message.Message):
    __slots__ = ("id", "client_order_id", "exchange", "symbol", "type", "side", "price", "average", "amount", "filled", "remaining", "cost", "fee_cost", "fee_currency", "status", "timestamp")
    ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SIDE_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    AVERAGE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    FILLED_FIELD_NUMBER: _ClassVar[int]
    REMAINING_FIELD_NUMBER: _ClassVar[int]
    COST_FIELD_NUMBER: _ClassVar[int]
    FEE_COST_FIELD_NUMBER: _ClassVar[int]
    FEE_CURRENCY_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    id: str
    client_order_id: str
    exchange: str
    symbol: str
    type: str
    side: str
    price: str
    average: str
    amount: str
    filled: str
    remaining: str
    cost: str
    fee_cost: str
    fee_currency: str
    status: str
    timestamp: _timestamp_pb2.Timestamp
    def __init__(self, id: _Optional[str] = ..., client_order_id: _Optional[str] = ..., exchange: _Optional[str] = ..., symbol: _Optional[str] = ..., type: _Optional[str] = ..., side: _Optional[str] = ..., price: _Optional[str] = ..., average: _Optional[str] = ..., amount: _Optional[str] = ..., filled: _Optional[str] = ..., remaining: _Optional[str] = ..., cost: _Optional[str] = ..., fee_cost: _Optional[str] = ..., fee_currency: _Optional[str] = ..., status: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class StrategyExecutionResult(_message.Message):
    __slots__ = ("strategy_id", "strategy_name", "signal", "orders", "orders_placed", "profit", "position_exchange", "position_symbol", "position_amount", "entry_price", "refused", "dry_run", "figures", "opportunity", "worst_case_loss")
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_NAME_FIELD_NUMBER: _ClassVar[int]
    SIGNAL_FIELD_NUMBER: _ClassVar[int]
    ORDERS_FIELD_NUMBER: _ClassVar[int]
    ORDERS_PLACED_FIELD_NUMBER: _ClassVar[int]
    PROFIT_FIELD_NUMBER: _ClassVar[int]
    POSITION_EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    POSITION_SYMBOL_FIELD_NUMBER: _ClassVar[int]
    POSITION_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    ENTRY_PRICE_FIELD_NUMBER: _ClassVar[int]
    REFUSED_FIELD_NUMBER: _ClassVar[int]
    DRY_RUN_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITY_FIELD_NUMBER: _ClassVar[int]
    WORST_CASE_LOSS_FIELD_NUMBER: _ClassVar[int]
    strategy_id: str
    strategy_name: str
    signal: str
    orders: _containers.RepeatedCompositeFieldContainer[Order]
    orders_placed: int
    profit: str
    position_exchange: str
    position_symbol: str
    position_amount: str
    entry_price: str
    refused: str
    dry_run: bool
    figures: _struct_pb2.Struct
    opportunity: ArbitrageOpportunity
    worst_case_loss: str
    def __init__(self, strategy_id: _Optional[str] = ..., strategy_name: _Optional[str] = ..., signal: _Optional[str] = ..., orders: _Optional[_Iterable[_Union[Order, _Mapping]]] = ..., orders_placed: _Optional[int] = ..., profit: _Optional[str] = ..., position_exchange: _Optional[str] = ..., position_symbol: _Optional[str] = ..., position_amount: _Optional[str] = ..., entry_price: _Optional[str] = ..., refused: _Optional[str] = ..., dry_run: _Optional[bool] = ..., figures: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ..., opportunity: _Optional[_Union[ArbitrageOpportunity, _Mapping]] = ..., worst_case_loss: _Optional[str] = ...) -> None: ...

class ArbitrageOpportunity(_message.Message):
    __slots__ = ("buy_exchange", "sell_exchange", "symbol", "volume", "buy_vwap", "sell_vwap", "gross_profit", "net_profit", "net_profit_percentage")
    BUY_EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    SELL_EXCHANGE_FIELD_NUMBER: _ClassVar[int]
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    VOLUME_FIELD_NUMBER: _ClassVar[int]
    BUY_VWAP_FIELD_NUMBER: _ClassVar[int]
    SELL_VWAP_FIELD_NUMBER: _ClassVar[int]
    GROSS_PROFIT_FIELD_NUMBER: _ClassVar[int]
    NET_PROFIT_FIELD_NUMBER: _ClassVar[int]
    NET_PROFIT_PERCENTAGE_FIELD_NUMBER: _ClassVar[int]
    buy_exchange: str
    sell_exchange: str
    symbol: str
    volume: str
    buy_vwap: str
    sell_vwap: str
    gross_profit: str
    net_profit: str
    net_profit_percentage: float
    def __init__(self, buy_exchange: _Optional[str] = ..., sell_exchange: _Optional[str] = ..., symbol: _Optional[str] = ..., volume: _Optional[str] = ..., buy_vwap: _Optional[str] = ..., sell_vwap: _Optional[str] = ..., gross_profit: _Optional[str] = ..., net_profit: _Optional[str] = ..., net_profit_percentage: _Optional[float] = ...) -> None: ...

class ArbitrageDetectionResult(_message.Message):
    __slots__ = ("symbol", "opportunities")
    SYMBOL_FIELD_NUMBER: _ClassVar[int]
    OPPORTUNITIES_FIELD_NUMBER: _ClassVar[int]
    symbol: str
    opportunities: _containers.RepeatedCompositeFieldContainer[ArbitrageOpportunity]
    def __init__(self, symbol: _Optional[str] = ..., opportunities: _Optional[_Iterable[_Union[ArbitrageOpportunity, _Mapping]]] = ...) -> None: ...

class PositionMonitoringResult(_message.Message):
    __slots__ = ("position_id", "monitoring_type", "triggered", "price", "level", "close_order", "realized_profit", "figures")
    POSITION_ID_FIELD_NUMBER: _ClassVar[int]
    MONITORING_TYPE_FIELD_NUMBER: _ClassVar[int]
    TRIGGERED_FIELD_NUMBER: _ClassVar[int]
    PRICE_FIELD_NUMBER: _ClassVar[int]
    LEVEL_FIELD_NUMBER: _ClassVar[int]
    CLOSE_ORDER_FIELD_NUMBER: _ClassVar[int]
    REALIZED_PROFIT_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    position_id: str
    monitoring_type: _trading_jobs_pb2.MonitoringType
    triggered: bool
    price: str
    level: str
    close_order: Order
    realized_profit: str
    figures: _struct_pb2.Struct
    def __init__(self, position_id: _Optional[str] = ..., monitoring_type: _Optional[_Union[_trading_jobs_pb2.MonitoringType, str]] = ..., triggered: _Optional[bool] = ..., price: _Optional[str] = ..., level: _Optional[str] = ..., close_order: _Optional[_Union[Order, _Mapping]] = ..., realized_profit: _Optional[str] = ..., figures: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class RiskAnalysisResult(_message.Message):
    __slots__ = ("analysis_type", "value_at_risk", "expected_shortfall", "confidence", "horizon_days", "method", "rule", "observations", "portfolio_value", "figures")
    ANALYSIS_TYPE_FIELD_NUMBER: _ClassVar[int]
    VALUE_AT_RISK_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SHORTFALL_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    HORIZON_DAYS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    RULE_FIELD_NUMBER: _ClassVar[int]
    OBSERVATIONS_FIELD_NUMBER: _ClassVar[int]
    PORTFOLIO_VALUE_FIELD_NUMBER: _ClassVar[int]
    FIGURES_FIELD_NUMBER: _ClassVar[int]
    analysis_type: _trading_jobs_pb2.AnalysisType
    value_at_risk: str
    expected_shortfall: str
    confidence: float
    horizon_days: int
    method: str
    rule: str
    observations: int
    portfolio_value: str
    figures: _struct_pb2.Struct
    def __init__(self, analysis_type: _Optional[_Union[_trading_jobs_pb2.AnalysisType, str]] = ..., value_at_risk: _Optional[str] = ..., expected_shortfall: _Optional[str] = ..., confidence: _Optional[float] = ..., horizon_days: _Optional[int] = ..., method: _Optional[str] = ..., rule: _Optional[str] = ..., observations: _Optional[int] = ..., portfolio_value: _Optional[str] = ..., figures: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
