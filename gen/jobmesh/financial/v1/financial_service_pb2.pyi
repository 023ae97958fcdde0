import datetime

from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jobmesh.auth.v1 import auth_pb2 as _auth_pb2
from jobmesh.jobs.v1 import financial_jobs_pb2 as _financial_jobs_pb2
from jobmesh.jobs.v1 import financial_results_pb2 as _financial_results_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class ReconciliationOutcome(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECONCILIATION_OUTCOME_UNSPECIFIED: _ClassVar[ReconciliationOutcome]
    RECONCILIATION_OUTCOME_PASSED: _ClassVar[ReconciliationOutcome]
    RECONCILIATION_OUTCOME_FAILED: _ClassVar[ReconciliationOutcome]
RECONCILIATION_OUTCOME_UNSPECIFIED: ReconciliationOutcome
RECONCILIATION_OUTCOME_PASSED: ReconciliationOutcome
RECONCILIATION_OUTCOME_FAILED: ReconciliationOutcome

class CreateBankLinkRequest(_message.Message):
    __slots__ = ("request_id", "institution_id", "redirect_url", "reference")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    INSTITUTION_ID_FIELD_NUMBER: _ClassVar[int]
    REDIRECT_URL_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    institution_id: str
    redirect_url: str
    reference: str
    def __init__(self, request_id: _Optional[str] = ..., institution_id: _Optional[str] = ..., redirect_url: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class BankLink(_message.Message):
    __slots__ = ("requisition_id", "link", "status", "reference")
    REQUISITION_ID_FIELD_NUMBER: _ClassVar[int]
    LINK_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REFERENCE_FIELD_NUMBER: _ClassVar[int]
    requisition_id: str
    link: str
    status: str
    reference: str
    def __init__(self, requisition_id: _Optional[str] = ..., link: _Optional[str] = ..., status: _Optional[str] = ..., reference: _Optional[str] = ...) -> None: ...

class CreateBankLinkResponse(_message.Message):
    __slots__ = ("bank_link",)
    BANK_LINK_FIELD_NUMBER: _ClassVar[int]
    bank_link: BankLink
    def __init__(self, bank_link: _Optional[_Union[BankLink, _Mapping]] = ...) -> None: ...

class CompleteBankLinkRequest(_message.Message):
    __slots__ = ("request_id", "requisition_id")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    REQUISITION_ID_FIELD_NUMBER: _ClassVar[int]
    request_id: str
    requisition_id: str
    def __init__(self, request_id: _Optional[str] = ..., requisition_id: _Optional[str] = ...) -> None: ...

class CompleteBankLinkResponse(_message.Message):
    __slots__ = ("bank_link", "accounts")
    BANK_LINK_FIELD_NUMBER: _ClassVar[int]
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    bank_link: BankLink
    accounts: _containers.RepeatedCompositeFieldContainer[Account]
    def __init__(self, bank_link: _Optional[_Union[BankLink, _Mapping]] = ..., accounts: _Optional[_Iterable[_Union[Account, _Mapping]]] = ...) -> None: ...

class Account(_message.Message):
    __slots__ = ("account_id", "name", "currency", "provider", "external_id", "last_booked_date", "created_at")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    EXTERNAL_ID_FIELD_NUMBER: _ClassVar[int]
    LAST_BOOKED_DATE_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    name: str
    currency: str
    provider: str
    external_id: str
    last_booked_date: str
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, account_id: _Optional[str] = ..., name: _Optional[str] = ..., currency: _Optional[str] = ..., provider: _Optional[str] = ..., external_id: _Optional[str] = ..., last_booked_date: _Optional[str] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListAccountsRequest(_message.Message):
    __slots__ = ("page_size", "page_token")
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    page_size: int
    page_token: str
    def __init__(self, page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListAccountsResponse(_message.Message):
    __slots__ = ("accounts", "next_page_token")
    ACCOUNTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    accounts: _containers.RepeatedCompositeFieldContainer[Account]
    next_page_token: str
    def __init__(self, accounts: _Optional[_Iterable[_Union[Account, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class Report(_message.Message):
    __slots__ = ("report_id", "report_type", "format", "period_start", "period_end", "location", "size_bytes", "sha256", "transactions", "created_at")
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    REPORT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    LOCATION_FIELD_NUMBER: _ClassVar[int]
    SIZE_BYTES_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    report_type: _financial_jobs_pb2.ReportType
    format: _financial_jobs_pb2.ReportFormat
    period_start: str
    period_end: str
    location: str
    size_bytes: int
    sha256: str
    transactions: int
    created_at: _timestamp_pb2.Timestamp
    def __init__(self, report_id: _Optional[str] = ..., report_type: _Optional[_Union[_financial_jobs_pb2.ReportType, str]] = ..., format: _Optional[_Union[_financial_jobs_pb2.ReportFormat, str]] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., location: _Optional[str] = ..., size_bytes: _Optional[int] = ..., sha256: _Optional[str] = ..., transactions: _Optional[int] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ...) -> None: ...

class ListReportsRequest(_message.Message):
    __slots__ = ("report_type", "page_size", "page_token")
    REPORT_TYPE_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    report_type: _financial_jobs_pb2.ReportType
    page_size: int
    page_token: str
    def __init__(self, report_type: _Optional[_Union[_financial_jobs_pb2.ReportType, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListReportsResponse(_message.Message):
    __slots__ = ("reports", "next_page_token")
    REPORTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    reports: _containers.RepeatedCompositeFieldContainer[Report]
    next_page_token: str
    def __init__(self, reports: _Optional[_Iterable[_Union[Report, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class DownloadReportRequest(_message.Message):
    __slots__ = ("report_id",)
    REPORT_ID_FIELD_NUMBER: _ClassVar[int]
    report_id: str
    def __init__(self, report_id: _Optional[str] = ...) -> None: ...

class DownloadReportResponse(_message.Message):
    __slots__ = ("report", "chunk")
    REPORT_FIELD_NUMBER: _ClassVar[int]
    CHUNK_FIELD_NUMBER: _ClassVar[int]
    report: Report
    chunk: bytes
    def __init__(self, report: _Optional[_Union[Report, _Mapping]] = ..., chunk: _Optional[bytes] = ...) -> None: ...

class Reconciliation(_message.Message):
    __slots__ = ("reconciliation_id", "account_id", "reconciliation_type", "period_start", "period_end", "target_balance", "target_source", "opening_balance", "matched_total", "matched_transactions", "discrepancy", "discrepancy_threshold", "passed", "items_compared", "created_at", "unmatched_ledger_count", "unmatched_statement_count")
    RECONCILIATION_ID_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    RECONCILIATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    PERIOD_START_FIELD_NUMBER: _ClassVar[int]
    PERIOD_END_FIELD_NUMBER: _ClassVar[int]
    TARGET_BALANCE_FIELD_NUMBER: _ClassVar[int]
    TARGET_SOURCE_FIELD_NUMBER: _ClassVar[int]
    OPENING_BALANCE_FIELD_NUMBER: _ClassVar[int]
    MATCHED_TOTAL_FIELD_NUMBER: _ClassVar[int]
    MATCHED_TRANSACTIONS_FIELD_NUMBER: _ClassVar[int]
    DISCREPANCY_FIELD_NUMBER: _ClassVar[int]
    DISCREPANCY_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    PASSED_FIELD_NUMBER: _ClassVar[int]
    ITEMS_COMPARED_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    UNMATCHED_LEDGER_COUNT_FIELD_NUMBER: _ClassVar[int]
    UNMATCHED_STATEMENT_COUNT_FIELD_NUMBER: _ClassVar[int]
    reconciliation_id: str
    account_id: str
    reconciliation_type: _financial_jobs_pb2.ReconciliationType
    period_start: str
    period_end: str
    target_balance: str
    target_source: str
    opening_balance: str
    matched_total: str
    matched_transactions: int
    discrepancy: str
    discrepancy_threshold: str
    passed: bool
    items_compared: bool
    created_at: _timestamp_pb2.Timestamp
    unmatched_ledger_count: int
    unmatched_statement_count: int
    def __init__(self, reconciliation_id: _Optional[str] = ..., account_id: _Optional[str] = ..., reconciliation_type: _Optional[_Union[_financial_jobs_pb2.ReconciliationType, str]] = ..., period_start: _Optional[str] = ..., period_end: _Optional[str] = ..., target_balance: _Optional[str] = ..., target_source: _Optional[str] = ..., opening_balance: _Optional[str] = ..., matched_total: _Optional[str] = ..., matched_transactions: _Optional[int] = ..., discrepancy: _Optional[str] = ..., discrepancy_threshold: _Optional[str] = ..., passed: _Optional[bool] = ..., items_compared: _Optional[bool] = ..., created_at: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., unmatched_ledger_count: _Optional[int] = ..., unmatched_statement_count: _Optional[int] = ...) -> None: ...

class ListReconciliationsRequest(_message.Message):
    __slots__ = ("account_id", "outcome", "page_size", "page_token")
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    OUTCOME_FIELD_NUMBER: _ClassVar[int]
    PAGE_SIZE_FIELD_NUMBER: _ClassVar[int]
    PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    account_id: str
    outcome: ReconciliationOutcome
    page_size: int
    page_token: str
    def __init__(self, account_id: _Optional[str] = ..., outcome: _Optional[_Union[ReconciliationOutcome, str]] = ..., page_size: _Optional[int] = ..., page_token: _Optional[str] = ...) -> None: ...

class ListReconciliationsResponse(_message.Message):
    __slots__ = ("reconciliations", "next_page_token")
    RECONCILIATIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_PAGE_TOKEN_FIELD_NUMBER: _ClassVar[int]
    reconciliations: _containers.RepeatedCompositeFieldContainer[Reconciliation]
    next_page_token: str
    def __init__(self, reconciliations: _Optional[_Iterable[_Union[Reconciliation, _Mapping]]] = ..., next_page_token: _Optional[str] = ...) -> None: ...

class GetReconciliationRequest(_message.Message):
    __slots__ = ("reconciliation_id",)
    RECONCILIATION_ID_FIELD_NUMBER: _ClassVar[int]
    reconciliation_id: str
    def __init__(self, reconciliation_id: _Optional[str] = ...) -> None: ...

class GetReconciliationResponse(_message.Message):
    __slots__ = ("reconciliation", "unmatched_ledger", "unmatched_statement")
    RECONCILIATION_FIELD_NUMBER: _ClassVar[int]
    UNMATCHED_LEDGER_FIELD_NUMBER: _ClassVar[int]
    UNMATCHED_STATEMENT_FIELD_NUMBER: _ClassVar[int]
    reconciliation: Reconciliation
    unmatched_ledger: _containers.RepeatedCompositeFieldContainer[_financial_results_pb2.ReconciliationItem]
    unmatched_statement: _containers.RepeatedCompositeFieldContainer[_financial_results_pb2.ReconciliationItem]
    def __init__(self, reconciliation: _Optional[_Union[Reconciliation, _Mapping]] = ..., unmatched_ledger: _Optional[_Iterable[_Union[_financial_results_pb2.ReconciliationItem, _Mapping]]] = ..., unmatched_statement: _Optional[_Iterable[_Union[_financial_results_pb2.ReconciliationItem, _Mapping]]] = ...) -> None: ...
