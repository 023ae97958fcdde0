from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class ServiceLifecycle(_message.Message):
    __slots__ = ("service", "instance", "grpc_address", "queues")
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    INSTANCE_FIELD_NUMBER: _ClassVar[int]
    GRPC_ADDRESS_FIELD_NUMBER: _ClassVar[int]
    QUEUES_FIELD_NUMBER: _ClassVar[int]
    service: str
    instance: str
    grpc_address: str
    queues: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, service: _Optional[str] = ..., instance: _Optional[str] = ..., grpc_address: _Optional[str] = ..., queues: _Optional[_Iterable[str]] = ...) -> None: ...

class RpcAudited(_message.Message):
    __slots__ = ("caller", "method", "request_id", "code", "request", "service", "peer", "duration_ms")
    CALLER_FIELD_NUMBER: _ClassVar[int]
    METHOD_FIELD_NUMBER: _ClassVar[int]
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    CODE_FIELD_NUMBER: _ClassVar[int]
    REQUEST_FIELD_NUMBER: _ClassVar[int]
    SERVICE_FIELD_NUMBER: _ClassVar[int]
    PEER_FIELD_NUMBER: _ClassVar[int]
    DURATION_MS_FIELD_NUMBER: _ClassVar[int]
    caller: str
    method: str
    request_id: str
    code: str
    request: str
    service: str
    peer: str
    duration_ms: int
    def __init__(self, caller: _Optional[str] = ..., method: _Optional[str] = ..., request_id: _Optional[str] = ..., code: _Optional[str] = ..., request: _Optional[str] = ..., service: _Optional[str] = ..., peer: _Optional[str] = ..., duration_ms: _Optional[int] = ...) -> None: ...
