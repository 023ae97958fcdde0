"""A jobmesh service run exactly as `python -m <module>` does, under cProfile: `--profile`'s service.

    python -m bench.profiled trading_svc /tmp/stats.pstats

The service's `app.build` is served by `service_kit.server.run_service`; when
it stops (SIGTERM) the profile of its main thread, where the event loop and
every servicer run, is written to the given file for the bench to print.
"""

from __future__ import annotations

import cProfile
import importlib
import sys

from service_kit.server import run_service


def main() -> None:
    module, out = sys.argv[1], sys.argv[2]
    build = importlib.import_module(f"{module}.app").build
    profile = cProfile.Profile()
    profile.enable()
    try:
        run_service(module, build)
    finally:
        profile.disable()
        profile.dump_stats(out)


if __name__ == "__main__":
    main()
