from jobmesh.jobs.v1 import financial_jobs_pb2 as _financial_jobs_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
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

class ReconciliationItem(_message.Message):
    __slots__ = ("transaction_id", "booking_date", "amount", "payee", "description", "provider_transaction_id", "booked")
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    BOOKING_DATE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    PAYEE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    BOOKED_FIELD_NUMBER: _ClassVar[int]
    transaction_id: int
    booking_date: str
    amount: str
    payee: str
    description: str
    provider_transaction_id: str
    booked: bool
    def __init__(self, transaction_id: _Optional[int] = ..., booking_date: _Optional[str] = ..., amount: _Optional[str] = ..., payee: _Optional[str] = ..., description: _Optional[str] = ..., provider_transaction_id: _Optional[str] = ..., booked: _Optional[bool] = ...) -> None: ...

class AccountReconciliationResult(_message.Message):
    __slots__ = ("account_id", "reconciliation_type", "period_start", "period_end", "target_balance", "target_source", "opening_balance", "matched_total", "discrepancy", "discrepancy_threshold", "passed", "matched_transactions", "unmatched_ledger", "unmatched_statement", "items_compared", "expected_balance")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    RECONCILIATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    TARGET_BALANCE_FIELD_NUMBER: _ClassVar[int]
    TARGET_SOURCE_FIELD_NUMBER: _ClassVar[int]
    OPENING_BALANCE_FIELD_NUMBER: _ClassVar[int]
    MATCHED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    DISCREPANCY_FIELD_NUMBER: _ClassVar[int]
    DISCREPANCY_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    MATCHED_TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    UNMATCHED_LEDGER_FIELD_NUMBER: _ClassVar[int]
    UNMATCHED_STATEMENT_FIELD_NUMBER: _ClassVar[int]
    ITEMS_COMPARED_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_BALANCE_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    reconciliation_type: _financial_jobs_pb2.ReconciliationType
    period_start: str
    period_end: str
    target_balance: str
    target_source: str
    opening_balance: str
    matched_total: str
    discrepancy: str
    discrepancy_threshold: str
    passed: bool
    matched_transactions: int
    unmatched_ledger: _containers.RepeatedCompositeFieldContainer[ReconciliationItem]
    unmatched_statement: _containers.RepeatedCompositeFieldContainer[ReconciliationItem]
    items_compared: bool
    expected_balance: str
    def __init__(self, account_id: _Optional[str] = ..., reconciliation_type: _Optional[_Union[_financial_jobs_pb2.ReconciliationType, str]] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., target_balance: _Optional[str] = ..., target_source: _Optional[str] = ..., opening_balance: _Optional[str] = ..., matched_total: _Optional[str] = ..., discrepancy: _Optional[str] = ..., discrepancy_threshold: _Optional[str] = ..., passed: _Optional[bool] = ..., matched_transactions: _Optional[int] = ..., unmatched_ledger: _Optional[_Iterable[_Union[ReconciliationItem, _Mapping]]] = ..., unmatched_statement: _Optional[_Iterable[_Union[ReconciliationItem, _Mapping]]] = ..., items_compared: _Optional[bool] = ..., expected_balance: _Optional[str] = ...) -> None: ...

class ReportGenerationResult(_message.Message):
    __slots__ = ("report_type", "format", "period_start", "period_end", "location", "size_bytes", "sha256", "transactions", "income", "expenses", "net", "account_ids")
    class IncomeEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class ExpensesEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    class NetEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    REPORT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    INCOME_FIELD_NUMBER: _ClassVar[int]
    EXPENSES_FIELD_NUMBER: _ClassVar[int]
    NET_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_IDS_FIELD_NUMBER: _ClassVar[int]
    report_type: _financial_jobs_pb2.ReportType
    format: _financial_jobs_pb2.ReportFormat
    period_start: str
    period_end: str
    location: str
    size_bytes: int
    sha256: str
    transactions: int
    income: _containers.ScalarMap[str, str]
    expenses: _containers.ScalarMap[str, str]
    net: _containers.ScalarMap[str, str]
    account_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, report_type: _Optional[_Union[_financial_jobs_pb2.ReportType, str]] = ..., format: _Optional[_Union[_financial_jobs_pb2.ReportFormat, str]] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., location: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., transactions: _Optional[int] = ..., income: _Optional[_Mapping[str, str]] = ..., expenses: _Optional[_Mapping[str, str]] = ..., net: _Optional[_Mapping[str, str]] = ..., account_ids: _Optional[_Iterable[str]] = ...) -> None: ...

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
