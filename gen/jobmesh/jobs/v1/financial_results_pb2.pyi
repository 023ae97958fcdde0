from jobmesh.jobs.v1 import financial_jobs_pb2 as _financial_jobs_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class TransactionSyncResult(_message.Message):
    __slots__ = ("account_id", "provider", "sync_type", "transactions_processed", "new_transactions", "duplicates", "first_booking_date", "last_booking_date", "format", "statement_balance")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    SYNC_TYPE_FIELD_NUMBER: _ClassVar[int]
    TRANSACTIONS_PROCESSED_FIELD_NUMBER: _ClassVar[int]
    NEW_TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    DUPLICATES_FIELD_NUMBER: _ClassVar[int]
    FIRST_BOOKING_DATE_FIELD_NUMBER: _ClassVar[int]
    LAST_BOOKING_DATE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    STATEMENT_BALANCE_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    provider: _financial_jobs_pb2.SyncProvider
    sync_type: _financial_jobs_pb2.SyncType
    transactions_processed: int
    new_transactions: int
    duplicates: int
    first_booking_date: str
    last_booking_date: str
    format: _financial_jobs_pb2.StatementFormat
    statement_balance: str
    def __init__(self, account_id: _Optional[str] = ..., provider: _Optional[_Union[_financial_jobs_pb2.SyncProvider, str]] = ..., sync_type: _Optional[_Union[_financial_jobs_pb2.SyncType, str]] = ..., transactions_processed: _Optional[int] = ..., new_transactions: _Optional[int] = ..., duplicates: _Optional[int] = ..., first_booking_date: _Optional[str] = ..., last_booking_date: _Optional[str] = ..., format: _Optional[_Union[_financial_jobs_pb2.StatementFormat, str]] = ..., statement_balance: _Optional[str] = ...) -> None: ...
