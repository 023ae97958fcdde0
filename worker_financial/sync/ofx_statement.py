"""OFX and QFX statements (OFX 1.x SGML and 2.x XML; QFX is Quicken's OFX) read with ofxtools.

Each STMTTRN becomes one transaction: DTPOSTED is its booking date, DTAVAIL
its value date (both the calendar day the bank wrote: ofxtools turns a time
with a zone, 20240305003000[+1:CET], into UTC, which would move it to the
4th), TRNAMT its signed amount (exact: ofxtools reads it as a Decimal),
NAME (else PAYEE's name) its payee, MEMO its description, and FITID, the
bank's unique id of the transaction, its provider id, so a statement
imported again adds nothing. Bank and credit-card statements both
count; a CURRENCY/ORIGCURRENCY aggregate on a transaction names its currency,
else the statement's CURDEF does.
"""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from datetime import date
from decimal import Decimal
from typing import Any

from worker_financial.ledger.entries import NewTransaction
from worker_financial.sync.errors import SyncInputError
from worker_financial.sync.statement import Statement


def _written_day(element: ET.Element | None, tag: str) -> date | None:
    """The calendar day of a date element as written (YYYYMMDD first), before any zone shift."""
    raw = (element.findtext(tag) if element is not None else None) or ""
    try:
        return date(int(raw[0:4]), int(raw[4:6]), int(raw[6:8]))
    except ValueError:
        return None


def _text(value: Any) -> str:
    return "" if value is None else " ".join(str(value).split())


def _transaction(trn: Any, written: ET.Element | None, currency: str) -> NewTransaction:
    payee = _text(trn.name) or (_text(trn.payee.name) if trn.payee is not None else "")
    own_currency = trn.currency or trn.origcurrency
    booked = _written_day(written, "DTPOSTED") or (trn.dtposted.date() if trn.dtposted else None)
    if booked is None:
        raise SyncInputError(f"OFX transaction {trn.fitid!r} has no DTPOSTED")
    amount = trn.trnamt
    if not isinstance(amount, Decimal):
        raise SyncInputError(f"OFX transaction {trn.fitid!r} has no TRNAMT")
    return NewTransaction(
        booking_date=booked,
        value_date=_written_day(written, "DTAVAIL") or (trn.dtavail.date() if trn.dtavail else None),
        amount=amount,
        currency=str(own_currency.cursym) if own_currency is not None else currency,
        payee=payee,
        description=_text(trn.memo),
        provider_transaction_id=_text(trn.fitid) or None,
    )


def read_ofx(content: bytes) -> list[Statement]:
    """Every bank or credit-card statement in an OFX/QFX file; SyncInputError when it is not OFX."""
    # Imported here: ofxtools loads its HTTP client too (most of a second); only OFX jobs pay for it.
    from ofxtools.Parser import OFXTree  # noqa: PLC0415

    tree = OFXTree()
    try:
        tree.parse(io.BytesIO(content))
        ofx = tree.convert()
    except Exception as exc:  # ofxtools raises many kinds for a malformed file
        raise SyncInputError(f"not a readable OFX/QFX statement: {type(exc).__name__}: {exc}") from exc
    # The parsed elements, in the same order as ofxtools' statements and transactions.
    root = tree.getroot()
    written = [e for e in root.iter() if e.tag in ("STMTRS", "CCSTMTRS")] if root is not None else []
    statements = []
    for number, stmt in enumerate(ofx.statements):
        elements: list[ET.Element | None] = []
        if number < len(written):
            elements = list(written[number].iter("STMTTRN"))
        if len(elements) != len(stmt.transactions):
            elements = [None] * len(stmt.transactions)
        currency = str(stmt.curdef)
        balance = stmt.ledgerbal.balamt if stmt.ledgerbal is not None else None
        account = stmt.account
        statements.append(
            Statement(
                transactions=[
                    _transaction(trn, element, currency)
                    for trn, element in zip(stmt.transactions, elements, strict=True)
                ],
                currency=currency,
                account_number=_text(account.acctid) if account is not None else None,
                closing_balance=balance,
            )
        )
    if not statements:
        raise SyncInputError("the OFX/QFX file holds no bank or credit-card statement")
    return statements
