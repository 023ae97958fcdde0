"""risk-analysis's `position` and `portfolio` types: what accounts hold, valued and put at risk.

Whose positions: a position id of `scope.positions` names an account, as
position-monitoring's `position_id` does (a strategy's id). With no position ids
the account is `scope.portfolio_id`, else `parameters.strategyId`.

`position`: the account's position in `parameters.symbol` on `parameters.exchange`
(the first position id's account), or `parameters.position` ({contracts,
entryPrice, markPrice}) fed in. Figures as ccxt defines them: exposure = contracts
x markPrice (the venue's mid now), costBasis = contracts x entryPrice,
unrealizedPnl = (markPrice - entryPrice) x contracts and its percent of the cost
basis, realizedPnl; and the VaR of the exposure over the symbol's returns (or
`parameters.returns`).

`portfolio`: every open position of the accounts on the venues of
`parameters.exchanges` in the symbols of `parameters.symbols` (the whole catalog
when unset), each a holding worth its exposure, with its symbol's returns on its
venue (the latest periods all have); or `parameters.holdings` ([{name, value,
returns}]) fed in. Figures: value, each holding's value and weight, the
portfolio's returns (portfolio.py) and their VaR, each holding's standalone VaR by
the same method, their sum and the diversification benefit (the sum minus the
portfolio's VaR), as Hull shows it. Nothing held: VaR 0, and the figures say so.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from jobmesh.jobs.v1 import trading_jobs_pb2 as tj
from jobmesh.jobs.v1 import trading_results_pb2 as tr
from worker_trading.exchange import Exchange
from worker_trading.order_book import EXACT, EXCHANGES, QUOTIENT, SYMBOLS
from worker_trading.portfolio import Holding, portfolio_returns, total_value, weights
from worker_trading.processors.inputs import decimal, decimals, figures
from worker_trading.processors.var_figures import VarSettings, put_var, returns_of, venue_returns

_HUNDRED = Decimal(100)


def _accounts(job: tj.RiskAnalysisJob, p: dict[str, Any]) -> list[str]:
    if job.scope.positions:
        return list(dict.fromkeys(job.scope.positions))
    account = job.scope.portfolio_id if job.scope.HasField("portfolio_id") else str(p.get("strategyId", ""))
    if not account:
        raise ValueError("whose positions? name them in scope.positions or scope.portfolio_id")
    return [account]


async def position(
    job: tj.RiskAnalysisJob, p: dict[str, Any], exchange: Exchange, result: tr.RiskAnalysisResult
) -> None:
    venue, symbol = str(p.get("exchange", "binance")), str(p.get("symbol", "BTC/USD"))
    shown: dict[str, object] = {"exchange": venue, "symbol": symbol}
    if "position" in p:
        fed = p["position"]
        if not isinstance(fed, dict):
            raise ValueError("parameters.position must be an object of contracts, entryPrice, markPrice")
        contracts = decimal(fed.get("contracts"), "position.contracts")
        entry = decimal(fed.get("entryPrice"), "position.entryPrice")
        mark = decimal(fed.get("markPrice"), "position.markPrice")
        shown["positionFrom"] = "parameters.position"
    else:
        account = _accounts(job, p)[0]
        held = await exchange.position(account, venue, symbol)
        contracts = held.contracts if held is not None else Decimal(0)
        entry = held.entryPrice if held is not None else Decimal(0)
        mark = held.markPrice if held is not None else await exchange.last_price(venue, symbol)
        shown.update(account=account, positionFrom=f"{venue} account {account}")
        if held is not None:
            shown["realizedPnl"] = held.realizedPnl
    if contracts < 0 or entry < 0 or mark <= 0:
        raise ValueError(f"a position needs contracts >= 0, entryPrice >= 0, markPrice > 0: {shown}")
    exposure, basis = EXACT.multiply(contracts, mark), EXACT.multiply(contracts, entry)
    pnl = EXACT.multiply(EXACT.subtract(mark, entry), contracts)
    shown.update(
        contracts=contracts,
        entryPrice=entry,
        markPrice=mark,
        exposure=exposure,
        costBasis=basis,
        unrealizedPnl=pnl,
        unrealizedPnlPercent=QUOTIENT.multiply(QUOTIENT.divide(pnl, basis), _HUNDRED) if basis else None,
    )
    if exposure == 0:
        shown["note"] = "no open position: nothing at risk"
    returns = await returns_of(p, exchange, venue, symbol)
    _, var = put_var(result, VarSettings.of(p), returns, exposure)
    result.figures.CopyFrom(figures(**shown, **var, returns=returns[-20:]))


def _fed_holdings(raw: object) -> list[Holding]:
    if not isinstance(raw, list) or not all(isinstance(h, dict) for h in raw):
        raise ValueError("parameters.holdings must be a list of {name, value, returns}")
    return [
        Holding(
            str(h.get("name", f"holding{i}")),
            decimal(h.get("value"), f"holdings[{i}].value"),
            tuple(decimals(h.get("returns"), f"holdings[{i}].returns")),
        )
        for i, h in enumerate(raw)
    ]


async def _held(
    job: tj.RiskAnalysisJob, p: dict[str, Any], exchange: Exchange
) -> tuple[list[Holding], list[dict[str, object]]]:
    """Every open position of the accounts, as holdings, and what each is."""
    venues = [str(v) for v in p.get("exchanges", list(EXCHANGES))]
    symbols = [str(s) for s in p.get("symbols", list(SYMBOLS))]
    found: list[Holding] = []
    lines: list[dict[str, object]] = []
    for account in _accounts(job, p):
        for venue in venues:
            for symbol in symbols:
                held = await exchange.position(account, venue, symbol)
                if held is None or held.contracts == 0:
                    continue
                name = f"{account}:{venue}:{symbol}"
                returns = tuple(await venue_returns(exchange, venue, symbol))
                found.append(Holding(name, held.notional, returns))
                lines.append(
                    {
                        "contracts": held.contracts,
                        "markPrice": held.markPrice,
                        "unrealizedPnl": held.unrealizedPnl,
                    }
                )
    periods = min((len(h.returns) for h in found), default=0)
    return [Holding(h.name, h.value, h.returns[len(h.returns) - periods :]) for h in found], lines


async def portfolio(
    job: tj.RiskAnalysisJob, p: dict[str, Any], exchange: Exchange, result: tr.RiskAnalysisResult
) -> None:
    if "holdings" in p:
        holdings = _fed_holdings(p["holdings"])
        lines: list[dict[str, object]] = [{} for _ in holdings]
    else:
        holdings, lines = await _held(job, p, exchange)
    settings = VarSettings.of(p)
    if not holdings:
        put_var(result, settings, [], Decimal(0))
        result.figures.CopyFrom(
            figures(value=Decimal(0), holdings=[], note="no open positions: nothing at risk")
        )
        return
    value = total_value(holdings)
    returns = portfolio_returns(holdings)
    chosen, var = put_var(result, settings, returns, value)
    assert chosen is not None  # the value of open positions is positive
    alone = [settings.chosen(h.returns, h.value).var for h in holdings]
    result.figures.CopyFrom(
        figures(
            value=value,
            holdings=[
                {"name": h.name, "value": h.value, "weight": w, "standaloneVar": v, **line}
                for h, w, v, line in zip(holdings, weights(holdings), alone, lines, strict=True)
            ],
            **var,
            sumOfStandaloneVar=sum(alone),
            diversificationBenefit=sum(alone) - chosen.var,
            returns=returns[-20:],
        )
    )
