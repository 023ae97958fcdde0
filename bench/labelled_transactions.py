"""A labelled set for categorization: a few hundred bank transactions as statements show them.

Made deterministically in code (a seeded random.Random), so the accuracy a test
reports is the same on every run and machine. Realism where it matters to a
text model: one merchant spelled the ways banks spell it ("REWE Markt GmbH",
"REWE SAGT DANKE 4411", "Rewe 0815 Berlin"), store and card numbers, dates and
references in the descriptions, descriptions shared across categories ("VISA
Debit purchase" says nothing about groceries vs. fuel), and amounts in each
category's usual range and direction. A few merchants appear only rarely, so
some test transactions name a merchant the training split has seldom or never
seen.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Final

from worker_financial.ledger.entries import NewTransaction

CITIES: Final = ("Berlin", "Hamburg", "Muenchen", "Koeln", "London", "Leeds", "Paris", "Lyon", "Wien")

# category -> (payee spellings, descriptions, amount range (low, high), money in?)
CATALOG: Final[dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[int, int], bool]]] = {
    "groceries": (
        (
            "REWE Markt GmbH",
            "REWE SAGT DANKE {n}",
            "Rewe {n} {city}",
            "LIDL DIENSTL {n}",
            "Lidl sagt Danke",
            "ALDI SUED {n}",
            "ALDI Nord Filiale {n}",
            "EDEKA Center {city}",
            "Tesco Stores {n}",
            "SAINSBURYS S/MKTS",
            "Whole Foods Market",
            "Carrefour Market {city}",
            "Netto Marken-Discount",
            "Kaufland {city}",
            "Penny Markt {n}",
        ),
        ("card", "pos", "contactless"),
        (4, 160),
        False,
    ),
    "dining": (
        (
            "Starbucks Coffee {n}",
            "MCDONALDS {n}",
            "Burger King {city}",
            "Cafe Central",
            "Pizzeria Roma",
            "Vapiano {city}",
            "WOLT*{city}",
            "Lieferando.de",
            "Deliveroo",
            "Uber *Eats",
            "Pret A Manger {n}",
            "Nandos {city}",
            "Sushi Bar Sakura",
            "Kebab Haus {city}",
            "Costa Coffee {n}",
        ),
        ("card", "pos", "contactless", "online"),
        (3, 85),
        False,
    ),
    "transport": (
        (
            "DB Vertrieb GmbH",
            "DB Fernverkehr",
            "BVG Ticket {n}",
            "HVV Fahrkarte",
            "MVG Automat {n}",
            "UBER *TRIP",
            "Uber BV",
            "Bolt.eu",
            "FREE NOW",
            "TfL Travel Charge",
            "Trainline",
            "FlixBus",
            "Lime*Ride",
            "Tier Mobility",
        ),
        ("card", "online", "contactless"),
        (2, 140),
        False,
    ),
    "fuel": (
        (
            "ARAL Station {n}",
            "Shell {n} {city}",
            "SHELL DEUTSCHLAND",
            "ESSO {city}",
            "TotalEnergies {n}",
            "JET Tankstelle {n}",
            "BP Connect {city}",
            "Agip {n}",
            "OMV {city}",
        ),
        ("card", "pos"),
        (25, 110),
        False,
    ),
    "utilities": (
        (
            "Vattenfall Europe Sales",
            "E.ON Energie Deutschland",
            "Stadtwerke {city}",
            "EnBW Energie",
            "British Gas",
            "Thames Water",
            "Octopus Energy",
            "Telekom Deutschland GmbH",
            "Vodafone GmbH",
            "O2 Telefonica",
            "1&1 Telecom",
            "Virgin Media",
        ),
        ("debit", "invoice"),
        (20, 180),
        False,
    ),
    "rent": (
        (
            "Hausverwaltung Schmidt",
            "Vonovia SE",
            "Deutsche Wohnen",
            "Rent Property Ltd",
            "Foxtons Lettings",
            "Grainger plc",
            "Immobilien Mueller GbR",
        ),
        ("standing", "transfer"),
        (650, 1900),
        False,
    ),
    "salary": (
        (
            "ACME GmbH",
            "Globex Corporation",
            "Initech Ltd",
            "Umbrella Consulting",
            "Stark Industries",
            "Wayne Enterprises",
            "Hooli Europe",
        ),
        ("salary", "transfer"),
        (1800, 5200),
        True,
    ),
    "subscriptions": (
        (
            "NETFLIX.COM",
            "Spotify AB",
            "SPOTIFY P{n}",
            "Amazon Prime*{n}",
            "Disney Plus",
            "APPLE.COM/BILL",
            "Google *YouTube Premium",
            "Microsoft*Microsoft 365",
            "Adobe Systems",
            "DAZN Limited",
            "Audible Ltd",
            "Dropbox",
        ),
        ("online", "debit"),
        (4, 30),
        False,
    ),
    "shopping": (
        (
            "AMAZON EU S.A R.L.",
            "AMZN Mktp DE*{n}",
            "Amazon.de Marketplace",
            "Zalando SE",
            "IKEA {city}",
            "MediaMarkt {city}",
            "Saturn {n}",
            "H&M {n}",
            "ZARA {city}",
            "Decathlon {city}",
            "eBay O*{n}",
            "Otto GmbH",
            "Primark {city}",
            "Uniqlo {city}",
        ),
        ("card", "online", "pos"),
        (8, 420),
        False,
    ),
    "health": (
        (
            "Apotheke am Markt",
            "DocMorris",
            "Shop Apotheke",
            "Boots UK {n}",
            "Zahnarztpraxis Dr. Weber",
            "Praxis Dr. Schulz",
            "Fielmann {n}",
            "Specsavers {city}",
            "dm-drogerie markt {n}",
            "Rossmann {n}",
        ),
        ("card", "pos", "invoice"),
        (5, 240),
        False,
    ),
    "insurance": (
        (
            "Allianz Versicherungs-AG",
            "HUK-COBURG",
            "AXA Versicherung",
            "ERGO Versicherung",
            "Aviva Insurance",
            "Direct Line Insurance",
            "DEVK Versicherung",
            "Techniker Krankenkasse",
        ),
        ("debit", "invoice"),
        (15, 320),
        False,
    ),
    "travel": (
        (
            "LUFTHANSA {n}",
            "Ryanair",
            "easyJet {n}",
            "BOOKING.COM",
            "Airbnb * {n}",
            "Expedia {n}",
            "Hilton Hotels {city}",
            "Marriott {city}",
            "Eurowings",
            "British Airways",
        ),
        ("online", "card"),
        (45, 900),
        False,
    ),
}

DESCRIPTIONS: Final[dict[str, tuple[str, ...]]] = {
    "card": ("VISA Debit purchase {d}", "Kartenzahlung {d} {city}", "Debit card {card} {d}"),
    "pos": ("POS {d} {time}", "EC-Kartenzahlung Terminal {n}", "Card payment {card}"),
    "contactless": ("Contactless {d}", "girocard kontaktlos {d}", "Apple Pay {card}"),
    "online": ("Online purchase {ref}", "Internet payment {ref}", "PAYPAL *{ref}", "Order {ref}"),
    "debit": ("SEPA-Lastschrift Mandat {ref}", "Direct debit ref {ref}", "Lastschrift {ref} Kunde {n}"),
    "invoice": ("Rechnung {ref}", "Invoice {ref}", "Beitrag {d}"),
    "standing": ("Dauerauftrag Miete {month}", "Standing order rent {month}", "Miete {month} Whg {n}"),
    "transfer": ("Ueberweisung {ref}", "Bank transfer {ref}", "SEPA credit transfer {ref}"),
    "salary": ("Gehalt {month}", "Salary {month}", "Lohn/Gehalt {month} PersNr {n}"),
}


@dataclass(frozen=True, slots=True)
class Labelled:
    """One transaction and its true category."""

    transaction: NewTransaction
    category: str
    # The payee's spelling template: one merchant, however its store number or city varies.
    merchant: str


def _fill(template: str, rng: random.Random, day: date) -> str:
    return template.format(
        n=rng.randint(10, 9999),
        city=rng.choice(CITIES),
        d=day.strftime("%d.%m.%Y"),
        time=f"{rng.randint(7, 21):02d}:{rng.randint(0, 59):02d}",
        card=f"****{rng.randint(1000, 9999)}",
        ref=f"{rng.choice('ABCDEFGHJKLMNPQRSTUVWXYZ')}{rng.randint(100000, 999999)}",
        month=day.strftime("%m/%Y"),
    )


def labelled_set(count: int = 420, seed: int = 2024) -> list[Labelled]:
    """`count` labelled transactions; the same ones for the same seed. Categories are drawn with the
    weights a household's statement shows (many groceries and meals, one rent a month)."""
    rng = random.Random(seed)
    weights = {
        "groceries": 14, "dining": 12, "transport": 9, "fuel": 5, "utilities": 6, "rent": 3, "salary": 3,
        "subscriptions": 7, "shopping": 11, "health": 5, "insurance": 4, "travel": 4,
    }  # fmt: skip
    names = list(weights)
    start = date(2024, 1, 1)
    out: list[Labelled] = []
    for i in range(count):
        category = rng.choices(names, weights=[weights[n] for n in names])[0]
        payees, kinds, (low, high), money_in = CATALOG[category]
        day = start + timedelta(days=rng.randint(0, 364))
        # Zipf-like: a household's first merchants of a category recur, its last ones are rare.
        merchant = payees[min(int(rng.paretovariate(1.2)) - 1, len(payees) - 1)]
        payee = _fill(merchant, rng, day)
        description = _fill(rng.choice(DESCRIPTIONS[rng.choice(kinds)]), rng, day)
        cents = rng.randint(low * 100, high * 100)
        amount = Decimal(cents).scaleb(-2) * (1 if money_in else -1)
        out.append(
            Labelled(
                NewTransaction(
                    booking_date=day,
                    amount=amount,
                    currency="EUR",
                    payee=payee,
                    description=description,
                    provider_transaction_id=f"L{seed}-{i:05d}",
                ),
                category,
                merchant,
            )
        )
    return out


def split(
    items: list[Labelled], test_share: float = 0.3, seed: int = 7
) -> tuple[list[Labelled], list[Labelled]]:
    """(train, test): a seeded shuffle, the last `test_share` held out."""
    shuffled = list(items)
    random.Random(seed).shuffle(shuffled)
    cut = round(len(shuffled) * (1 - test_share))
    return shuffled[:cut], shuffled[cut:]


def split_by_merchant(
    items: list[Labelled], test_share: float = 0.3, seed: int = 11
) -> tuple[list[Labelled], list[Labelled]]:
    """(train, test) where no merchant of the test split occurs in training: a new shop, a new
    employer. The model then has only the words of the payee and description to go on."""
    merchants = sorted({item.merchant for item in items})
    random.Random(seed).shuffle(merchants)
    held = set(merchants[: round(len(merchants) * test_share)])
    return [i for i in items if i.merchant not in held], [i for i in items if i.merchant in held]
