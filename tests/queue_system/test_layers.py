"""The queue runtime is grpc-free: every one of its modules imports with grpc made unimportable.

(import-linter's contracts in pyproject.toml check the same statically, in ./run test;
this checks it by running the imports.)
"""

from __future__ import annotations

import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import queue_system

ROOT = Path(__file__).resolve().parents[2]


def test_every_runtime_module_imports_with_grpc_unimportable() -> None:
    modules = sorted(m.name for m in pkgutil.walk_packages(queue_system.__path__, "queue_system."))
    assert "queue_system.worker" in modules and "queue_system.validation.jobs" in modules
    code = "\n".join(
        [
            "import importlib, sys",
            "sys.modules['grpc'] = None",
            f"for name in {modules!r}:",
            "    importlib.import_module(name)",
            "loaded = [m for m, mod in sys.modules.items() if mod and m.split('.')[0] == 'grpc']",
            "assert not loaded, loaded",
        ]
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(ROOT / "gen")])}
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
