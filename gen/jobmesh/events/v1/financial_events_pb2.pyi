from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TransactionSyncCompleted(_message.Message):
    __slots__ = ("account_id", "transactions_processed", "new_transactions", "job_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    TRANSACTIONS_PROCESSED_FIELD_NUMBER: _ClassVar[int]
    NEW_TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    transactions_processed: int
    new_transactions: int
    job_id: str
    def __init__(self, account_id: _Optional[str] = ..., transactions_processed: _Optional[int] = ..., new_transactions: _Optional[int] = ..., job_id: _Optional[str] = ...) -> None: ...

class FinancialJobCompleted(_message.Message):
    __slots__ = ("queue", "job_id", "summary")
    QUEUE_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    SUMMARY_FIELD_NUMBER: _ClassVar[int]
    queue: str
    job_id: str
    summary: _struct_pb2.Struct
    def __init__(self, queue: _Optional[str] = ..., job_id: _Optional[str] = ..., summary: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...
