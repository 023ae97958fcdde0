"""Generate gen/ from proto/ with grpc_tools.protoc, or check that gen/ is fresh.

One command makes every Python module, .pyi stub and gRPC stub:

    python scripts/gen_proto.py           # rewrite gen/
    python scripts/gen_proto.py --check   # exit 1 when gen/ differs from proto/

The check regenerates into a temporary folder and compares file by file, so CI
fails when someone edits a .proto and forgets to commit the regenerated code.
"""

from __future__ import annotations

import argparse
import filecmp
import importlib.resources
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PROTO = ROOT / "proto"
GEN = ROOT / "gen"


def generate(out: Path) -> None:
    """Run protoc over every .proto under proto/ into `out` (replacing it)."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    protos = sorted(str(p.relative_to(PROTO)) for p in PROTO.rglob("*.proto"))
    well_known = importlib.resources.files("grpc_tools") / "_proto"
    cmd = [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"-I{PROTO}",
        f"-I{well_known}",
        f"--python_out={out}",
        f"--pyi_out={out}",
        f"--grpc_python_out={out}",
        *protos,
    ]
    subprocess.run(cmd, check=True, cwd=PROTO)
    # Regular packages (not namespace ones) so mypy and setuptools find them.
    for folder in [out / "jobmesh", *(p for p in (out / "jobmesh").rglob("*") if p.is_dir())]:
        (folder / "__init__.py").write_text("")
    (out / "jobmesh" / "py.typed").write_text("")


def differences(a: Path, b: Path) -> list[str]:
    """Relative paths that differ between two trees (missing on either side included)."""
    found: list[str] = []
    files_a = {p.relative_to(a) for p in a.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    files_b = {p.relative_to(b) for p in b.rglob("*") if p.is_file() and "__pycache__" not in p.parts}
    for rel in sorted(files_a ^ files_b):
        found.append(str(rel))
    for rel in sorted(files_a & files_b):
        if not filecmp.cmp(a / rel, b / rel, shallow=False):
            found.append(str(rel))
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail when gen/ is stale")
    args = parser.parse_args()
    if not args.check:
        generate(GEN)
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "gen"
        generate(fresh)
        stale = differences(fresh, GEN)
    if stale:
        print("gen/ is stale; run `python scripts/gen_proto.py`. Differs:", *stale, sep="\n  ")
        return 1
    print("gen/ is fresh")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
