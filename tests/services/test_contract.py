"""Contract tests: a client that knows only what reflection tells it.

No generated stub is used here. Each service is listed and described over
server reflection, and the file descriptors it serves must equal those protoc
builds from proto/, so what runs is exactly the contract that is committed.
"""

from __future__ import annotations

import importlib.resources
import subprocess
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import ProtoReflectionDescriptorDatabase

from tests.service_processes import HEALTH, REFLECTION, ROOT, SERVED, ServiceProcess

PROTO = ROOT / "proto"


def _json_name(name: str) -> str:
    """protoc's default json_name: snake_case -> lowerCamelCase."""
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def _normalized(fd: descriptor_pb2.FileDescriptorProto) -> descriptor_pb2.FileDescriptorProto:
    """Drop json_name where it is protoc's default (--descriptor_set_out adds it, generated code omits it)."""
    copy = descriptor_pb2.FileDescriptorProto()
    copy.CopyFrom(fd)
    for f in copy.extension:  # file-level extensions (the auth method option)
        if f.json_name == _json_name(f.name):
            f.ClearField("json_name")
    stack = list(copy.message_type)
    while stack:
        msg = stack.pop()
        stack.extend(msg.nested_type)
        for f in [*msg.field, *msg.extension]:
            if f.json_name == _json_name(f.name):
                f.ClearField("json_name")
    return copy


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    """Every file of proto/ (and what it imports) as protoc builds it."""
    out = Path(tmp_path_factory.mktemp("contract")) / "set.binpb"
    protos = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    well_known = importlib.resources.files("grpc_tools") / "_proto"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{PROTO}",
            f"-I{well_known}",
            "--include_imports",
            f"--descriptor_set_out={out}",
            *protos,
        ],
        check=True,
        cwd=PROTO,
    )
    fds = descriptor_pb2.FileDescriptorSet.FromString(out.read_bytes())
    return {f.name: _normalized(f) for f in fds.file}


def _proto_services(built: dict[str, descriptor_pb2.FileDescriptorProto]) -> set[str]:
    files = [fd for fd in built.values() if fd.name.startswith("jobmesh/")]
    return {f"{fd.package}.{svc.name}" for fd in files for svc in fd.service}


def test_every_service_of_the_contract_is_served(
    built: dict[str, descriptor_pb2.FileDescriptorProto],
) -> None:
    served = set().union(*SERVED.values())
    assert served == _proto_services(built)


@pytest.mark.parametrize("module", sorted(SERVED))
def test_reflection_lists_and_describes_the_contract(
    module: str,
    mesh_services: dict[str, ServiceProcess],
    built: dict[str, descriptor_pb2.FileDescriptorProto],
) -> None:
    db = ProtoReflectionDescriptorDatabase(mesh_services[module].channel)

    # list
    assert set(db.get_services()) == {*SERVED[module], HEALTH, REFLECTION}

    # describe: every method with its request and response message, from reflection alone
    pool = descriptor_pool.DescriptorPool(db)
    for name in sorted(SERVED[module]):
        service = pool.FindServiceByName(name)
        package, _, short = name.rpartition(".")
        source = next(
            svc for fd in built.values() if fd.package == package for svc in fd.service if svc.name == short
        )
        assert [m.name for m in service.methods] == [m.name for m in source.method]
        for method, expected in zip(service.methods, source.method, strict=True):
            assert f".{method.input_type.full_name}" == expected.input_type
            assert f".{method.output_type.full_name}" == expected.output_type
            assert method.server_streaming == expected.server_streaming
            assert method.input_type.fields or method.input_type.full_name.endswith("Request")

    # the served files, and everything they import, equal what protoc builds from proto/
    seen: dict[str, descriptor_pb2.FileDescriptorProto] = {}
    todo = [db.FindFileContainingSymbol(name).name for name in SERVED[module]]
    while todo:
        file_name = todo.pop()
        if file_name in seen:
            continue
        seen[file_name] = fd = db.FindFileByName(file_name)
        todo.extend(fd.dependency)
    jobmesh_files = sorted(n for n in seen if n.startswith("jobmesh/"))
    assert jobmesh_files, "reflection served no jobmesh file"
    for file_name in jobmesh_files:
        assert file_name in built, f"{file_name} is served but not in proto/"
        assert seen[file_name] == built[file_name], f"{file_name} served differs from proto/"
