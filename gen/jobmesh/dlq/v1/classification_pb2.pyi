from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from typing import ClassVar as _ClassVar

DESCRIPTOR: _descriptor.FileDescriptor

class ErrorCategory(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    ERROR_CATEGORY_UNSPECIFIED: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_TIMEOUT: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_NETWORK: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_VALIDATION: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_AUTHORIZATION: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_RATE_LIMIT: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_RESOURCE: _ClassVar[ErrorCategory]
    ERROR_CATEGORY_UNKNOWN: _ClassVar[ErrorCategory]

class RiskLevel(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RISK_LEVEL_UNSPECIFIED: _ClassVar[RiskLevel]
    RISK_LEVEL_LOW: _ClassVar[RiskLevel]
    RISK_LEVEL_MEDIUM: _ClassVar[RiskLevel]
    RISK_LEVEL_HIGH: _ClassVar[RiskLevel]
    RISK_LEVEL_CRITICAL: _ClassVar[RiskLevel]

class RecoveryStrategy(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RECOVERY_STRATEGY_UNSPECIFIED: _ClassVar[RecoveryStrategy]
    RECOVERY_STRATEGY_RETRY_DELAYED: _ClassVar[RecoveryStrategy]
    RECOVERY_STRATEGY_MANUAL_REVIEW: _ClassVar[RecoveryStrategy]
    RECOVERY_STRATEGY_DISCARD: _ClassVar[RecoveryStrategy]

class PatternType(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    PATTERN_TYPE_UNSPECIFIED: _ClassVar[PatternType]
    PATTERN_TYPE_RECURRING_ERROR: _ClassVar[PatternType]
    PATTERN_TYPE_SPIKE: _ClassVar[PatternType]
    PATTERN_TYPE_QUEUE_DEGRADATION: _ClassVar[PatternType]
ERROR_CATEGORY_UNSPECIFIED: ErrorCategory
ERROR_CATEGORY_TIMEOUT: ErrorCategory
ERROR_CATEGORY_NETWORK: ErrorCategory
ERROR_CATEGORY_VALIDATION: ErrorCategory
ERROR_CATEGORY_AUTHORIZATION: ErrorCategory
ERROR_CATEGORY_RATE_LIMIT: ErrorCategory
ERROR_CATEGORY_RESOURCE: ErrorCategory
ERROR_CATEGORY_UNKNOWN: ErrorCategory
RISK_LEVEL_UNSPECIFIED: RiskLevel
RISK_LEVEL_LOW: RiskLevel
RISK_LEVEL_MEDIUM: RiskLevel
RISK_LEVEL_HIGH: RiskLevel
RISK_LEVEL_CRITICAL: RiskLevel
RECOVERY_STRATEGY_UNSPECIFIED: RecoveryStrategy
RECOVERY_STRATEGY_RETRY_DELAYED: RecoveryStrategy
RECOVERY_STRATEGY_MANUAL_REVIEW: RecoveryStrategy
RECOVERY_STRATEGY_DISCARD: RecoveryStrategy
PATTERN_TYPE_UNSPECIFIED: PatternType
PATTERN_TYPE_RECURRING_ERROR: PatternType
PATTERN_TYPE_SPIKE: PatternType
PATTERN_TYPE_QUEUE_DEGRADATION: PatternType
