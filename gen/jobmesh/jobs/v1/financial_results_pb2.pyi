from jobmesh.jobs.v1 import financial_jobs_pb2 as _financial_jobs_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
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

class CategorizationResult(_message.Message):
    __slots__ = ("method", "transactions_processed", "categorized_by_rules", "categorized_by_model", "left_for_review", "kept_manual", "training_transactions", "model_categories", "model_unavailable", "categories", "rules_used", "rules_from_ledger")
    class CategoriesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: int
        def __init__(self, key: _Optional[str] = ..., value: _Optional[int] = ...) -> None: ...
    METHOD_FIELD_NUMBER: _ClassVar[int]
    TRANSACTIONS_PROCESSED_FIELD_NUMBER: _ClassVar[int]
    CATEGORIZED_BY_RULES_FIELD_NUMBER: _ClassVar[int]
    CATEGORIZED_BY_MODEL_FIELD_NUMBER: _ClassVar[int]
    LEFT_FOR_REVIEW_FIELD_NUMBER: _ClassVar[int]
    KEPT_MANUAL_FIELD_NUMBER: _ClassVar[int]
    TRAINING_TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    MODEL_CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    MODEL_UNAVAILABLE_FIELD_NUMBER: _ClassVar[int]
    CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    RULES_USED_FIELD_NUMBER: _ClassVar[int]
    RULES_FROM_LEDGER_FIELD_NUMBER: _ClassVar[int]
    method: _financial_jobs_pb2.CategorizationMethod
    transactions_processed: int
    categorized_by_rules: int
    categorized_by_model: int
    left_for_review: int
    kept_manual: int
    training_transactions: int
    model_categories: int
    model_unavailable: str
    categories: _containers.ScalarMap[str, int]
    rules_used: int
    rules_from_ledger: bool
    def __init__(self, method: _Optional[_Union[_financial_jobs_pb2.CategorizationMethod, str]] = ..., transactions_processed: _Optional[int] = ..., categorized_by_rules: _Optional[int] = ..., categorized_by_model: _Optional[int] = ..., left_for_review: _Optional[int] = ..., kept_manual: _Optional[int] = ..., training_transactions: _Optional[int] = ..., model_categories: _Optional[int] = ..., model_unavailable: _Optional[str] = ..., categories: _Optional[_Mapping[str, int]] = ..., rules_used: _Optional[int] = ..., rules_from_ledger: _Optional[bool] = ...) -> None: ...
