import datetime

from google.protobuf import struct_pb2 as _struct_pb2
from google.protobuf import timestamp_pb2 as _timestamp_pb2
from jobmesh.jobs.v1 import common_pb2 as _common_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SyncProvider(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SYNC_PROVIDER_UNSPECIFIED: _ClassVar[SyncProvider]
    SYNC_PROVIDER_GOCARDLESS: _ClassVar[SyncProvider]
    SYNC_PROVIDER_MANUAL: _ClassVar[SyncProvider]
    SYNC_PROVIDER_API: _ClassVar[SyncProvider]

class SyncType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    SYNC_TYPE_UNSPECIFIED: _ClassVar[SyncType]
    SYNC_TYPE_FULL: _ClassVar[SyncType]
    SYNC_TYPE_INCREMENTAL: _ClassVar[SyncType]
    SYNC_TYPE_SPECIFIC: _ClassVar[SyncType]

class StatementFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    STATEMENT_FORMAT_UNSPECIFIED: _ClassVar[StatementFormat]
    STATEMENT_FORMAT_OFX: _ClassVar[StatementFormat]
    STATEMENT_FORMAT_QFX: _ClassVar[StatementFormat]
    STATEMENT_FORMAT_CSV: _ClassVar[StatementFormat]

class ReconciliationType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECONCILIATION_TYPE_UNSPECIFIED: _ClassVar[ReconciliationType]
    RECONCILIATION_TYPE_DAILY: _ClassVar[ReconciliationType]
    RECONCILIATION_TYPE_MONTHLY: _ClassVar[ReconciliationType]
    RECONCILIATION_TYPE_MANUAL: _ClassVar[ReconciliationType]
    RECONCILIATION_TYPE_WEEKLY: _ClassVar[ReconciliationType]

class ReportType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPORT_TYPE_UNSPECIFIED: _ClassVar[ReportType]
    REPORT_TYPE_MONTHLY_SUMMARY: _ClassVar[ReportType]
    REPORT_TYPE_TAX_REPORT: _ClassVar[ReportType]
    REPORT_TYPE_CASH_FLOW: _ClassVar[ReportType]
    REPORT_TYPE_PROFIT_LOSS: _ClassVar[ReportType]

class ReportFormat(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    REPORT_FORMAT_UNSPECIFIED: _ClassVar[ReportFormat]
    REPORT_FORMAT_PDF: _ClassVar[ReportFormat]
    REPORT_FORMAT_EXCEL: _ClassVar[ReportFormat]
    REPORT_FORMAT_JSON: _ClassVar[ReportFormat]
    REPORT_FORMAT_CSV: _ClassVar[ReportFormat]

class CategorizationMethod(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CATEGORIZATION_METHOD_UNSPECIFIED: _ClassVar[CategorizationMethod]
    CATEGORIZATION_METHOD_AI: _ClassVar[CategorizationMethod]
    CATEGORIZATION_METHOD_RULES: _ClassVar[CategorizationMethod]
    CATEGORIZATION_METHOD_HYBRID: _ClassVar[CategorizationMethod]

class RuleField(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RULE_FIELD_UNSPECIFIED: _ClassVar[RuleField]
    RULE_FIELD_PAYEE: _ClassVar[RuleField]
    RULE_FIELD_DESCRIPTION: _ClassVar[RuleField]

class RuleOperator(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RULE_OPERATOR_UNSPECIFIED: _ClassVar[RuleOperator]
    RULE_OPERATOR_IS: _ClassVar[RuleOperator]
    RULE_OPERATOR_CONTAINS: _ClassVar[RuleOperator]
    RULE_OPERATOR_REGEX: _ClassVar[RuleOperator]
    RULE_OPERATOR_ONE_OF: _ClassVar[RuleOperator]
SYNC_PROVIDER_UNSPECIFIED: SyncProvider
SYNC_PROVIDER_GOCARDLESS: SyncProvider
SYNC_PROVIDER_MANUAL: SyncProvider
SYNC_PROVIDER_API: SyncProvider
SYNC_TYPE_UNSPECIFIED: SyncType
SYNC_TYPE_FULL: SyncType
SYNC_TYPE_INCREMENTAL: SyncType
SYNC_TYPE_SPECIFIC: SyncType
STATEMENT_FORMAT_UNSPECIFIED: StatementFormat
STATEMENT_FORMAT_OFX: StatementFormat
STATEMENT_FORMAT_QFX: StatementFormat
STATEMENT_FORMAT_CSV: StatementFormat
RECONCILIATION_TYPE_UNSPECIFIED: ReconciliationType
RECONCILIATION_TYPE_DAILY: ReconciliationType
RECONCILIATION_TYPE_MONTHLY: ReconciliationType
RECONCILIATION_TYPE_MANUAL: ReconciliationType
RECONCILIATION_TYPE_WEEKLY: ReconciliationType
REPORT_TYPE_UNSPECIFIED: ReportType
REPORT_TYPE_MONTHLY_SUMMARY: ReportType
REPORT_TYPE_TAX_REPORT: ReportType
REPORT_TYPE_CASH_FLOW: ReportType
REPORT_TYPE_PROFIT_LOSS: ReportType
REPORT_FORMAT_UNSPECIFIED: ReportFormat
REPORT_FORMAT_PDF: ReportFormat
REPORT_FORMAT_EXCEL: ReportFormat
REPORT_FORMAT_JSON: ReportFormat
REPORT_FORMAT_CSV: ReportFormat
CATEGORIZATION_METHOD_UNSPECIFIED: CategorizationMethod
CATEGORIZATION_METHOD_AI: CategorizationMethod
CATEGORIZATION_METHOD_RULES: CategorizationMethod
CATEGORIZATION_METHOD_HYBRID: CategorizationMethod
RULE_FIELD_UNSPECIFIED: RuleField
RULE_FIELD_PAYEE: RuleField
RULE_FIELD_DESCRIPTION: RuleField
RULE_OPERATOR_UNSPECIFIED: RuleOperator
RULE_OPERATOR_IS: RuleOperator
RULE_OPERATOR_CONTAINS: RuleOperator
RULE_OPERATOR_REGEX: RuleOperator
RULE_OPERATOR_ONE_OF: RuleOperator

class TransactionSyncJob(_message.Message):
    __slots__ = ("id", "timestamp", "account_id", "provider", "sync_type", "date_range", "manual")
    ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    PROVIDER_FIELD_NUMBER: _ClassVar[int]
    SYNC_TYPE_FIELD_NUMBER: _ClassVar[int]
    DATE_RANGE_FIELD_NUMBER: _ClassVar[int]
    MANUAL_FIELD_NUMBER: _ClassVar[int]
    id: str
    timestamp: _timestamp_pb2.Timestamp
    account_id: str
    provider: SyncProvider
    sync_type: SyncType
    date_range: _common_pb2.DateRange
    manual: ManualImport
    def __init__(self, id: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., account_id: _Optional[str] = ..., provider: _Optional[_Union[SyncProvider, str]] = ..., sync_type: _Optional[_Union[SyncType, str]] = ..., date_range: _Optional[_Union[_common_pb2.DateRange, _Mapping]] = ..., manual: _Optional[_Union[ManualImport, _Mapping]] = ...) -> None: ...

class ManualImport(_message.Message):
    __slots__ = ("content", "path", "format", "csv", "account_name", "currency")
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    PATH_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    CSV_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_NAME_FIELD_NUMBER: _ClassVar[int]
    CURRENCY_FIELD_NUMBER: _ClassVar[int]
    content: bytes
    path: str
    format: StatementFormat
    csv: CsvColumns
    account_name: str
    currency: str
    def __init__(self, content: _Optional[bytes] = ..., path: _Optional[str] = ..., format: _Optional[_Union[StatementFormat, str]] = ..., csv: _Optional[_Union[CsvColumns, _Mapping]] = ..., account_name: _Optional[str] = ..., currency: _Optional[str] = ...) -> None: ...

class CsvColumns(_message.Message):
    __slots__ = ("date", "payee", "amount", "debit", "credit", "description", "value_date", "transaction_id", "date_format", "decimal_separator", "delimiter")
    DATE_FIELD_NUMBER: _ClassVar[int]
    PAYEE_FIELD_NUMBER: _ClassVar[int]
    AMOUNT_FIELD_NUMBER: _ClassVar[int]
    DEBIT_FIELD_NUMBER: _ClassVar[int]
    CREDIT_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    VALUE_DATE_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_ID_FIELD_NUMBER: _ClassVar[int]
    DATE_FORMAT_FIELD_NUMBER: _ClassVar[int]
    DECIMAL_SEPARATOR_FIELD_NUMBER: _ClassVar[int]
    DELIMITER_FIELD_NUMBER: _ClassVar[int]
    date: str
    payee: str
    amount: str
    debit: str
    credit: str
    description: str
    value_date: str
    transaction_id: str
    date_format: str
    decimal_separator: str
    delimiter: str
    def __init__(self, date: _Optional[str] = ..., payee: _Optional[str] = ..., amount: _Optional[str] = ..., debit: _Optional[str] = ..., credit: _Optional[str] = ..., description: _Optional[str] = ..., value_date: _Optional[str] = ..., transaction_id: _Optional[str] = ..., date_format: _Optional[str] = ..., decimal_separator: _Optional[str] = ..., delimiter: _Optional[str] = ...) -> None: ...

class AccountReconciliationJob(_message.Message):
    __slots__ = ("id", "timestamp", "account_id", "reconciliation_type", "target_balance", "discrepancy_threshold", "date_range")
    ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    ACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    RECONCILIATION_TYPE_FIELD_NUMBER: _ClassVar[int]
    TARGET_BALANCE_FIELD_NUMBER: _ClassVar[int]
    DISCREPANCY_THRESHOLD_FIELD_NUMBER: _ClassVar[int]
    DATE_RANGE_FIELD_NUMBER: _ClassVar[int]
    id: str
    timestamp: _timestamp_pb2.Timestamp
    account_id: str
    reconciliation_type: ReconciliationType
    target_balance: _struct_pb2.Value
    discrepancy_threshold: _struct_pb2.Value
    date_range: _common_pb2.DateRange
    def __init__(self, id: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., account_id: _Optional[str] = ..., reconciliation_type: _Optional[_Union[ReconciliationType, str]] = ..., target_balance: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., discrepancy_threshold: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., date_range: _Optional[_Union[_common_pb2.DateRange, _Mapping]] = ...) -> None: ...

class ReportParameters(_message.Message):
    __slots__ = ("date_range", "filters")
    DATE_RANGE_FIELD_NUMBER: _ClassVar[int]
    FILTERS_FIELD_NUMBER: _ClassVar[int]
    date_range: _common_pb2.DateRange
    filters: _struct_pb2.Struct
    def __init__(self, date_range: _Optional[_Union[_common_pb2.DateRange, _Mapping]] = ..., filters: _Optional[_Union[_struct_pb2.Struct, _Mapping]] = ...) -> None: ...

class ReportGenerationJob(_message.Message):
    __slots__ = ("id", "timestamp", "report_type", "format", "parameters")
    ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    REPORT_TYPE_FIELD_NUMBER: _ClassVar[int]
    FORMAT_FIELD_NUMBER: _ClassVar[int]
    PARAMETERS_FIELD_NUMBER: _ClassVar[int]
    id: str
    timestamp: _timestamp_pb2.Timestamp
    report_type: ReportType
    format: ReportFormat
    parameters: ReportParameters
    def __init__(self, id: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., report_type: _Optional[_Union[ReportType, str]] = ..., format: _Optional[_Union[ReportFormat, str]] = ..., parameters: _Optional[_Union[ReportParameters, _Mapping]] = ...) -> None: ...

class CategorizationOptions(_message.Message):
    __slots__ = ("ai_model", "confidence", "user_categories")
    AI_MODEL_FIELD_NUMBER: _ClassVar[int]
    CONFIDENCE_FIELD_NUMBER: _ClassVar[int]
    USER_CATEGORIES_FIELD_NUMBER: _ClassVar[int]
    ai_model: str
    confidence: float
    user_categories: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, ai_model: _Optional[str] = ..., confidence: _Optional[float] = ..., user_categories: _Optional[_Iterable[str]] = ...) -> None: ...

class CategorizationJob(_message.Message):
    __slots__ = ("id", "timestamp", "transaction_ids", "method", "options", "rules", "save_rules")
    ID_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_IDS_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    OPTIONS_FIELD_NUMBER: _ClassVar[int]
    RULES_FIELD_NUMBER: _ClassVar[int]
    SAVE_RULES_FIELD_NUMBER: _ClassVar[int]
    id: str
    timestamp: _timestamp_pb2.Timestamp
    transaction_ids: _containers.RepeatedScalarFieldContainer[str]
    method: CategorizationMethod
    options: CategorizationOptions
    rules: _containers.RepeatedCompositeFieldContainer[CategoryRule]
    save_rules: bool
    def __init__(self, id: _Optional[str] = ..., timestamp: _Optional[_Union[datetime.datetime, _timestamp_pb2.Timestamp, _Mapping]] = ..., transaction_ids: _Optional[_Iterable[str]] = ..., method: _Optional[_Union[CategorizationMethod, str]] = ..., options: _Optional[_Union[CategorizationOptions, _Mapping]] = ..., rules: _Optional[_Iterable[_Union[CategoryRule, _Mapping]]] = ..., save_rules: _Optional[bool] = ...) -> None: ...

class RuleCondition(_message.Message):
    __slots__ = ("field", "operator", "value", "values")
    FIELD_FIELD_NUMBER: _ClassVar[int]
    OPERATOR_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    VALUES_FIELD_NUMBER: _ClassVar[int]
    field: RuleField
    operator: RuleOperator
    value: str
    values: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, field: _Optional[_Union[RuleField, str]] = ..., operator: _Optional[_Union[RuleOperator, str]] = ..., value: _Optional[str] = ..., values: _Optional[_Iterable[str]] = ...) -> None: ...

class CategoryRule(_message.Message):
    __slots__ = ("name", "category", "conditions", "min_amount", "max_amount")
    NAME_FIELD_NUMBER: _ClassVar[int]
    CATEGORY_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    MIN_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    MAX_AMOUNT_FIELD_NUMBER: _ClassVar[int]
    name: str
    category: str
    conditions: _containers.RepeatedCompositeFieldContainer[RuleCondition]
    min_amount: _struct_pb2.Value
    max_amount: _struct_pb2.Value
    def __init__(self, name: _Optional[str] = ..., category: _Optional[str] = ..., conditions: _Optional[_Iterable[_Union[RuleCondition, _Mapping]]] = ..., min_amount: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ..., max_amount: _Optional[_Union[_struct_pb2.Value, _Mapping]] = ...) -> None: ...
