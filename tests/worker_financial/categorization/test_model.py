"""The `ai` model on the labelled set: trained on its training split, judged on the held-out split.

The accuracy is printed (pytest -s shows it) and held to a floor below what it
reaches, so a change that makes the model worse fails here. Too little to learn
from is an answer in words, never an exception.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime

from bench.labelled_transactions import Labelled, labelled_set, split, split_by_merchant
from worker_financial.categorization import model as ml
from worker_financial.ledger.entries import TransactionRecord

# What the model reaches is printed by the tests; each floor sits a little below it.
ACCURACY_FLOOR = 0.9
# Merchants never seen in training: only words and amounts to go on (12 categories: chance is 0.08).
UNSEEN_MERCHANT_FLOOR = 0.4


def record(i: int, item: Labelled, *, labelled: bool = True) -> TransactionRecord:
    t = item.transaction
    return TransactionRecord(
        id=i,
        account_id="acc",
        booked=True,
        booking_date=t.booking_date,
        value_date=None,
        amount=t.amount,
        currency=t.currency,
        payee=t.payee,
        description=t.description,
        provider_transaction_id=t.provider_transaction_id,
        fingerprint="",
        category=item.category if labelled else None,
        created_at=datetime.now(UTC),
        category_method="manual" if labelled else None,
    )


def test_the_model_categorizes_held_out_transactions_accurately() -> None:
    train, test = split(labelled_set())
    model = ml.train([record(i, item) for i, item in enumerate(train)])
    assert isinstance(model, ml.CategoryModel), model
    guesses = model.predict([record(i, item, labelled=False) for i, item in enumerate(test)])
    right = [g.category == item.category for g, item in zip(guesses, test, strict=True)]
    accuracy = sum(right) / len(test)
    # At the worker's default confidence: what it would categorize by itself, and how well.
    sure = [(g, item) for g, item in zip(guesses, test, strict=True) if g.confidence >= 0.6]
    sure_accuracy = sum(g.category == item.category for g, item in sure) / len(sure)
    wrong = Counter(
        f"{item.category}->{g.category}"
        for g, item in zip(guesses, test, strict=True)
        if g.category != item.category
    )
    print(
        f"\ncategorization accuracy on the labelled set: {accuracy:.3f} ({sum(right)}/{len(test)} held out, "
        f"trained on {len(train)}, {len(model.categories)} categories); at confidence >= 0.6: "
        f"{len(sure)}/{len(test)} categorized, {sure_accuracy:.3f} of them right; mistakes: {dict(wrong)}"
    )
    assert model.trained_on == len(train) and len(model.categories) == 12
    assert accuracy >= ACCURACY_FLOOR
    assert sure_accuracy >= accuracy  # what it is sure of, it gets right more often


def test_merchants_never_seen_in_training_are_harder_and_the_model_says_so() -> None:
    """The honest second figure: a shop or employer the ledger has never categorized."""
    train, test = split_by_merchant(labelled_set())
    model = ml.train([record(i, item) for i, item in enumerate(train)])
    assert isinstance(model, ml.CategoryModel), model
    guesses = model.predict([record(i, item, labelled=False) for i, item in enumerate(test)])
    accuracy = sum(g.category == item.category for g, item in zip(guesses, test, strict=True)) / len(test)
    sure = [g for g in guesses if g.confidence >= 0.6]
    print(
        f"\ncategorization accuracy on merchants unseen in training: {accuracy:.3f} ({len(test)} held out, "
        f"{len({i.merchant for i in test})} merchants); {len(sure)}/{len(test)} reach confidence 0.6"
    )
    assert accuracy >= UNSEEN_MERCHANT_FLOOR
    # Unsure far more often than on known merchants: most of these go to review, not to a guess.
    assert len(sure) < len(test) / 2


def test_the_same_data_trains_the_same_model() -> None:
    """Retrained every run from the ledger, the model must decide the same way each time."""
    train, test = split(labelled_set(120, seed=3))
    records = [record(i, item) for i, item in enumerate(train)]
    queries = [record(i, item, labelled=False) for i, item in enumerate(test)]
    first, second = ml.train(records), ml.train(records)
    assert isinstance(first, ml.CategoryModel) and isinstance(second, ml.CategoryModel)
    assert first.predict(queries) == second.predict(queries)


def test_too_few_labelled_transactions_is_said_in_words() -> None:
    few = [record(i, item) for i, item in enumerate(labelled_set(ml.MIN_LABELLED - 1))]
    reason = ml.train(few)
    assert isinstance(reason, str)
    assert f"the ledger has {ml.MIN_LABELLED - 1} in" in reason and f"at least {ml.MIN_LABELLED}" in reason
    one_category = [
        record(i, Labelled(item.transaction, "misc", item.merchant))
        for i, item in enumerate(labelled_set(50))
    ]
    reason = ml.train(one_category)
    assert isinstance(reason, str) and "in 1 category" in reason


def test_user_categories_limit_what_the_model_may_choose() -> None:
    train, test = split(labelled_set())
    model = ml.train([record(i, item) for i, item in enumerate(train)])
    assert isinstance(model, ml.CategoryModel)
    guesses = model.predict(
        [record(i, item, labelled=False) for i, item in enumerate(test)], ["rent", "salary"]
    )
    assert {g.category for g in guesses} <= {"rent", "salary"}
    # Groceries forced into rent/salary: the model stays unsure rather than renormalizing.
    groceries = [g for g, item in zip(guesses, test, strict=True) if item.category == "groceries"]
    assert groceries and max(g.confidence for g in groceries) < 0.5
