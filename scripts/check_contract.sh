#!/usr/bin/env bash
# The contract's own checks: buf lint, no breaking change against the committed
# image, and gen/ regenerated from proto/ equals what is committed.
# To accept a deliberate contract change: `buf build -o proto/image.binpb` and commit it.
set -euo pipefail
cd "$(dirname "$0")/.."

step() { printf '\n== %s\n' "$*"; }
fail() { printf '\ncheck failed: %s\n' "$*" >&2; exit 1; }

step "buf lint"
buf lint || fail "buf lint (fix the .proto files above)"

step "buf breaking --against proto/image.binpb"
buf breaking --against proto/image.binpb || fail "buf breaking: proto/ breaks the committed contract image"

step "gen/ is fresh (python scripts/gen_proto.py --check)"
python scripts/gen_proto.py --check || fail "gen/ is stale: run python scripts/gen_proto.py and commit gen/"
