#!/usr/bin/env bash
# Every check jobmesh has, in order, stopping at the first failure:
# the contract (buf lint, buf breaking, gen/ freshness), ruff, import layers,
# dead code (vulture), dependencies (deptry), mypy, pytest.
# Expects the project's venv on PATH (./run test arranges that).
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }
fail() { printf '\ncheck failed: %s\n' "$*" >&2; exit 1; }

scripts/check_contract.sh

step "ruff check ."
ruff check . || fail "ruff"

step "lint-imports (the layers: contracts in pyproject.toml)"
lint-imports --no-cache || fail "lint-imports"

step "vulture (dead code; config in pyproject.toml)"
vulture || fail "vulture: dead code above (or a name a framework uses: add it to [tool.vulture] ignore_names)"

step "deptry (every dependency declared and used)"
deptry . || fail "deptry"

step "mypy (strict, packages from pyproject.toml)"
mypy || fail "mypy"

step "pytest"
pytest "$@" || fail "pytest"

printf '\nall checks passed\n'
