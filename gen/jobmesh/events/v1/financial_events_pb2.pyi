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

class AccountReconciliationCompleted(_message.Message):
    __slots__ = ("account_id", "reconciliation_type", "period_start", "period_end", "target_balance", "discrepancy", "passed", "job_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    RECONCILIATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    TARGET_BALANCE_FIELD_NUMBER: _ClassVar[int]
    DISCREPANCY_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    reconciliation_type: str
    period_start: str
    period_end: str
    target_balance: str
    discrepancy: str
    passed: bool
    job_id: str
    def __init__(self, account_id: _Optional[str] = ..., reconciliation_type: _Optional[str] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., target_balance: _Optional[str] = ..., discrepancy: _Optional[str] = ..., passed: _Optional[bool] = ..., job_id: _Optional[str] = ...) -> None: ...

class ReconciliationDiscrepancy(_message.Message):
    __slots__ = ("account_id", "reconciliation_type", "period_start", "period_end", "target_balance", "expected_balance", "discrepancy", "discrepancy_threshold", "unmatched_ledger", "unmatched_statement", "job_id")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    RECONCILIATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    TARGET_BALANCE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_BALANCE_FIELD_NUMBER: _ClassVar[int]
    DISCREPANCY_FIELD_NUMBER: _ClassVar[int]
    DISCREPANCY_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    UNMATCHED_LEDGER_FIELD_NUMBER: _ClassVar[int]
    UNMATCHED_STATEMENT_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    reconciliation_type: str
    period_start: str
    period_end: str
    target_balance: str
    expected_balance: str
    discrepancy: str
    discrepancy_threshold: str
    unmatched_ledger: int
    unmatched_statement: int
    job_id: str
    def __init__(self, account_id: _Optional[str] = ..., reconciliation_type: _Optional[str] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., target_balance: _Optional[str] = ..., expected_balance: _Optional[str] = ..., discrepancy: _Optional[str] = ..., discrepancy_threshold: _Optional[str] = ..., unmatched_ledger: _Optional[int] = ..., unmatched_statement: _Optional[int] = ..., job_id: _Optional[str] = ...) -> None: ...

class ReportGenerationCompleted(_message.Message):
    __slots__ = ("report_type", "format", "period_start", "period_end", "location", "transactions", "job_id")
    REPORT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    report_type: str
    format: str
    period_start: str
    period_end: str
    location: str
    transactions: int
    job_id: str
    def __init__(self, report_type: _Optional[str] = ..., format: _Optional[str] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., location: _Optional[str] = ..., transactions: _Optional[int] = ..., job_id: _Optional[str] = ...) -> None: ...

class CategorizationCompleted(_message.Message):
    __slots__ = ("job_id", "method", "transactions_processed", "categorized", "categorized_by_rules", "categorized_by_model", "left_for_review")
    JOB_ID_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    TRANSACTIONS_PROCESSED_FIELD_NUMBER: _ClassVar[int]
    CATEGORIZED_FIELD_NUMBER: _ClassVar[int]
    CATEGORIZED_BY_RULES_FIELD_NUMBER: _ClassVar[int]
    CATEGORIZED_BY_MODEL_FIELD_NUMBER: _ClassVar[int]
    LEFT_FOR_REVIEW_FIELD_NUMBER: _ClassVar[int]
    job_id: str
    method: str
    transactions_processed: int
    categorized: int
    categorized_by_rules: int
    categorized_by_model: int
    left_for_review: int
    def __init__(self, job_id: _Optional[str] = ..., method: _Optional[str] = ..., transactions_processed: _Optional[int] = ..., categorized: _Optional[int] = ..., categorized_by_rules: _Optional[int] = ..., categorized_by_model: _Optional[int] = ..., left_for_review: _Optional[int] = ...) -> None: ...
