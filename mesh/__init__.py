"""The `jobmesh` command: the whole mesh on one machine (`./run up`).

Imported first by every process that uses gRPC and then starts others (the
supervisor, the benchmarks, the tests), for the one setting below.
"""

import os

# These processes use gRPC and then start child processes: gRPC's fork handlers would start
# threads in each child between fork and exec, which crash it now and then (SIGSEGV in
# cygrpc's event_engine; grpc/grpc#13873, #29044). Children exec at once and need none.
os.environ.setdefault("GRPC_ENABLE_FORK_SUPPORT", "false")
