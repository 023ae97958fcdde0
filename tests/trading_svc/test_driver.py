"""The strategy driver: stops when cancelled, whatever Redis call the cancellation lands in."""

from __future__ import annotations

import asyncio

from queue_system.streams import BLOCK_MS
from tests.trading_svc.conftest import Mesh, deploy

DRY_RUN = {"strategyName": "test", "exchange": "binance", "symbol": "BTC/USD"}


async def test_a_driver_cancelled_anywhere_stops_every_time(mesh: Mesh) -> None:
    await mesh.stop_driving()
    for _ in range(5):  # strategies at work (no worker: they wait), so the sweep has calls to make
        await mesh.stub.DeployStrategy(deploy(DRY_RUN))
    for i in range(150):
        mesh.start_driving()
        assert mesh.driving is not None
        await asyncio.sleep((i % 25) / 1000)
        mesh.driving.cancel()
        # before a blocking read could run out: a lost cancellation is not waited out
        done, _ = await asyncio.wait({mesh.driving}, timeout=BLOCK_MS / 1000 * 0.8)
        assert done, f"cancel {i}: the driver did not stop"
