"""arbitrage-detection: opportunities across the job's exchanges, net of taker fees on both legs.

Books come from the venues, or from `parameters.orderBooks` when the job feeds
them ({"binance": {"bids": [[price, amount], ...], "asks": [...]}, ...}), and
fees from the paper catalog or `parameters.fees` ({"binance": 0.001, ...}).
"""

from __future__ import annotations

from decimal import Decimal

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from jobmesh.jobs.v1 import trading_results_pb2 as tr
from queue_system.decimals import amount_of
from worker_trading.arbitrage import Opportunity, find_opportunities
from worker_trading.exchange import Exchange
from worker_trading.order_book import OrderBook, exchange_spec
from worker_trading.processors.inputs import decimal, params


def _book(raw: object, name: str) -> OrderBook:
    if not isinstance(raw, dict):
        raise ValueError(f"parameters.orderBooks.{name} must be an object with bids and asks")
    sides = []
    for side in ("bids", "asks"):
        levels = raw.get(side)
        if not isinstance(levels, list):
            raise ValueError(f"parameters.orderBooks.{name}.{side} must be a list of [price, amount]")
        sides.append([(decimal(p, f"{name}.{side}"), decimal(a, f"{name}.{side}")) for p, a in levels])
    return OrderBook.from_levels(sides[0], sides[1])


async def detect(job: tj.ArbitrageDetectionJob, exchange: Exchange) -> tr.ArbitrageDetectionResult:
    p = params(job.parameters)
    fed = p.get("orderBooks", {})
    books: dict[str, OrderBook] = {}
    for name in dict.fromkeys(job.exchange_pair):
        books[name] = _book(fed[name], name) if name in fed else await exchange.order_book(name, job.symbol)
    fees_fed = p.get("fees", {})
    fees = {
        n: decimal(fees_fed[n], f"fees.{n}") if n in fees_fed else exchange_spec(n).taker_fee for n in books
    }
    found = find_opportunities(
        books,
        fees,
        max_volume=amount_of(job.max_volume) if job.HasField("max_volume") else None,
        min_profit_percentage=Decimal(repr(job.min_profit_percentage)),
    )
    return tr.ArbitrageDetectionResult(
        symbol=job.symbol, opportunities=[opportunity(o, job.symbol) for o in found]
    )


def opportunity(o: Opportunity, symbol: str) -> tr.ArbitrageOpportunity:
    return tr.ArbitrageOpportunity(
        buy_exchange=o.buy_exchange,
        sell_exchange=o.sell_exchange,
        symbol=symbol,
        volume=str(o.volume),
        buy_vwap=str(o.buy_vwap),
        sell_vwap=str(o.sell_vwap),
        gross_profit=str(o.gross_profit),
        net_profit=str(o.net_profit),
        net_profit_percentage=float(o.net_profit_percentage),
    )
