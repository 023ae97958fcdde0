from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class StrategyExecutionCompleted(_message.Message):
    __slots__ = ("strategy_id", "profit", "orders_placed", "job_id")
    STRATEGY_ID_FIELD_NUMBER: _ClassVar[int]
    PROFIT_FIELD_NUMBER: _ClassVar[int]
    ORDERS_PLACED_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    strategy_id: str
    profit: str
    orders_placed: int
    job_id: str
    def __init__(self, strategy_id: _Optional[str] = ..., profit: _Optional[str] = ..., orders_placed: _Optional[int] = ..., job_id: _Optional[str] = ...) -> None: ...

class EmergencyStop(_message.Message):
    __slots__ = ("reason", "strategy_ids")
    REASON_FIELD_NUMBER: _ClassVar[int]
    STRATEGY_IDS_FIELD_NUMBER: _ClassVar[int]
    reason: str
    strategy_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, reason: _Optional[str] = ..., strategy_ids: _Optional[_Iterable[str]] = ...) -> None: ...
