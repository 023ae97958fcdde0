"""An exchange's Order as the result message carries it (ccxt's unified fields, exact strings)."""

from __future__ import annotations

from jobmesh.jobs.v1 import trading_results_pb2 as tr
from worker_trading.exchange import Order


def order_message(order: Order, exchange: str) -> tr.Order:
    out = tr.Order(
        id=order.id,
        client_order_id=order.clientOrderId,
        exchange=exchange,
        symbol=order.symbol,
        type=order.type,
        side=str(order.side),
        price=str(order.price) if order.price is not None else "",
        average=str(order.average) if order.average is not None else "",
        amount=str(order.amount),
        filled=str(order.filled),
        remaining=str(order.remaining),
        cost=str(order.cost),
        fee_cost=str(order.fee.cost),
        fee_currency=order.fee.currency,
        status=order.status,
    )
    out.timestamp.FromMilliseconds(order.timestamp)
    return out
