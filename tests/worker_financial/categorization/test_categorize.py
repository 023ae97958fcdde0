"""Categorization against the ledger, on SQLite and PostgreSQL: which transactions a run takes,
what each method decides, that hybrid never overrides a matching rule, that a person's category
is never overwritten, and that running again changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from google.protobuf import json_format
from sqlalchemy import update

from bench.labelled_transactions import Labelled, labelled_set, split
from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from worker_financial.categorization import model as ml
from worker_financial.categorization.categorize import TrainedModels, categorize, categorize_job
from worker_financial.categorization.errors import CategorizationInputError
from worker_financial.categorization.rules import compile_rules
from worker_financial.ledger.entries import CategoryAssignment, NewAccount, TransactionRecord
from worker_financial.ledger.models import LedgerTransaction
from worker_financial.ledger.store import Ledger

COFFEE_RULE: dict[str, Any] = {
    "name": "coffee",
    "category": "coffee",
    "conditions": [
        {"field": "RULE_FIELD_PAYEE", "operator": "RULE_OPERATOR_REGEX", "value": r"starbucks|costa coffee"}
    ],
}


async def load(
    ledger: Ledger, account_id: str, items: list[Labelled], *, labelled: bool
) -> list[TransactionRecord]:
    """Record the items in a new account; label them as a person would (method "manual") when asked."""
    await ledger.open_account(NewAccount(account_id, account_id, "EUR", "manual"))
    await ledger.record(account_id, [item.transaction for item in items])
    records = await ledger.transactions(account_id)
    by_fitid = {item.transaction.provider_transaction_id: item.category for item in items}
    if labelled:
        await ledger.assign_categories(
            [CategoryAssignment(r.id, by_fitid[r.provider_transaction_id], "manual") for r in records]
        )
        records = await ledger.transactions(account_id)
    return records


def truth(items: list[Labelled]) -> dict[str | None, str]:
    return {item.transaction.provider_transaction_id: item.category for item in items}


async def test_hybrid_never_overrides_a_matching_rule(own_ledger: Ledger) -> None:
    train, test = split(labelled_set())
    await load(own_ledger, "acc_history", train, labelled=True)
    fresh = await load(own_ledger, "acc_new", test, labelled=False)
    rules = compile_rules([json_format.ParseDict(COFFEE_RULE, fj.CategoryRule())])
    coffees = [r for r in fresh if rules[0].matches(r)]
    # The model, asked, would file these coffees under dining, and be sure of it: the rule must win anyway.
    model = ml.train(await own_ledger.labelled(ml.MAX_TRAINING))
    assert isinstance(model, ml.CategoryModel)
    guesses = model.predict(coffees)
    assert coffees and all(g.category == "dining" for g in guesses)
    assert max(g.confidence for g in guesses) >= 0.6

    outcome = await categorize(own_ledger, method="hybrid", rules=rules, confidence=0.6)
    after = {r.id: r for r in await own_ledger.transactions("acc_new")}
    assert all(after[c.id].category == "coffee" and after[c.id].category_method == "rules" for c in coffees)
    assert outcome.by_rules == len(coffees) and outcome.processed == len(test)
    # The rest: the model above the confidence, the others left for review; nothing of history touched.
    rest = [after[r.id] for r in fresh if r not in coffees]
    assert {r.category_method for r in rest if r.category} == {"ai"}
    assert outcome.by_model == sum(1 for r in rest if r.category) > len(rest) / 2
    assert outcome.left_for_review == sum(1 for r in rest if r.needs_review) == len(rest) - outcome.by_model
    assert all(r.category is None for r in rest if r.needs_review)
    right = truth(test)
    correct = sum(r.category == right[r.provider_transaction_id] for r in rest if r.category)
    assert correct / outcome.by_model >= 0.95
    assert {r.category_method for r in await own_ledger.transactions("acc_history")} == {"manual"}


async def test_without_ids_a_run_takes_the_uncategorized_and_again_changes_nothing(
    own_ledger: Ledger,
) -> None:
    train, test = split(labelled_set())
    await load(own_ledger, "acc_history", train, labelled=True)
    await load(own_ledger, "acc_new", test, labelled=False)
    first = await categorize(own_ledger, method="hybrid", rules=())
    assert first.processed == len(test) and first.kept_manual == 0
    assert first.by_model + first.left_for_review == len(test) and first.by_model > 0
    state = await own_ledger.transactions("acc_new")

    # Again: only those left for review are still uncategorized, and they stay so.
    again = await categorize(own_ledger, method="hybrid", rules=())
    assert (again.processed, again.by_model, again.left_for_review) == (
        first.left_for_review,
        0,
        first.left_for_review,
    )
    assert [
        (r.category, r.category_method, r.needs_review) for r in await own_ledger.transactions("acc_new")
    ] == [(r.category, r.category_method, r.needs_review) for r in state]


async def test_named_transactions_keep_a_persons_category(own_ledger: Ledger) -> None:
    items = labelled_set(40, seed=5)
    records = await load(own_ledger, "acc_mixed", items, labelled=True)
    rule = {**COFFEE_RULE, "category": "everything", "conditions": [], "maxAmount": "100000"}
    job = fj.CategorizationJob(
        transaction_ids=[str(r.id) for r in records],
        method=fj.CATEGORIZATION_METHOD_RULES,
        rules=[json_format.ParseDict(rule, fj.CategoryRule())],
    )
    result = await categorize_job(job, own_ledger)
    assert (result.transactions_processed, result.kept_manual, result.categorized_by_rules) == (40, 40, 0)
    assert [r.category for r in await own_ledger.transactions("acc_mixed")] == [r.category for r in records]


async def test_too_little_to_learn_from_leaves_transactions_for_review_saying_why(own_ledger: Ledger) -> None:
    items = labelled_set(30, seed=9)
    await load(own_ledger, "acc_few", items[:5], labelled=True)
    fresh = await load(own_ledger, "acc_new", items[5:], labelled=False)
    job = fj.CategorizationJob(method=fj.CATEGORIZATION_METHOD_AI)
    result = await categorize_job(job, own_ledger)
    assert (result.transactions_processed, result.categorized_by_model, result.left_for_review) == (25, 0, 25)
    assert (
        "too few categorized transactions to train the model: the ledger has 5 in" in result.model_unavailable
    )
    after = await own_ledger.transactions("acc_new")
    assert len(after) == len(fresh) and all(r.needs_review and r.category is None for r in after)


async def test_rules_only_marks_what_no_rule_matched(own_ledger: Ledger) -> None:
    items = labelled_set(60, seed=1)
    records = await load(own_ledger, "acc_r", items, labelled=False)
    job = fj.CategorizationJob(
        method=fj.CATEGORIZATION_METHOD_RULES, rules=[json_format.ParseDict(COFFEE_RULE, fj.CategoryRule())]
    )
    result = await categorize_job(job, own_ledger)
    matched = sum(
        1 for r in records if "starbucks" in r.payee.casefold() or "costa coffee" in r.payee.casefold()
    )
    assert matched > 0
    assert (result.categorized_by_rules, result.left_for_review) == (matched, len(records) - matched)
    assert dict(result.categories) == {"coffee": matched}
    assert result.training_transactions == 0 and result.model_unavailable == ""  # no model was trained


async def test_an_unknown_transaction_id_is_the_jobs_input_error(own_ledger: Ledger) -> None:
    records = await load(own_ledger, "acc_u", labelled_set(3, seed=2), labelled=False)
    for ids, problem in (
        ([str(records[0].id), "999999"], r"1 transaction id\(s\) not in the ledger: 999999"),
        (["tx-1"], "transaction_ids\\[0\\] is not a ledger transaction id"),
    ):
        job = fj.CategorizationJob(transaction_ids=ids, method=fj.CATEGORIZATION_METHOD_AI)
        with pytest.raises(CategorizationInputError, match=problem):
            await categorize_job(job, own_ledger)
    job = fj.CategorizationJob(
        method=fj.CATEGORIZATION_METHOD_AI, options=fj.CategorizationOptions(ai_model="gpt")
    )
    with pytest.raises(CategorizationInputError, match="ai_model 'gpt' is unknown"):
        await categorize_job(job, own_ledger)
    assert all(r.category is None and not r.needs_review for r in await own_ledger.transactions("acc_u"))


def test_amounts_in_the_fixture_are_exact() -> None:
    assert all(
        item.transaction.amount == item.transaction.amount.quantize(Decimal("0.01"))
        for item in labelled_set()
    )


async def test_rules_kept_in_the_ledger_serve_the_jobs_that_carry_none(own_ledger: Ledger) -> None:
    records = await load(own_ledger, "acc_k", labelled_set(60, seed=1), labelled=False)
    coffee = json_format.ParseDict(COFFEE_RULE, fj.CategoryRule())
    keep = fj.CategorizationJob(
        method=fj.CATEGORIZATION_METHOD_RULES,
        rules=[coffee],
        save_rules=True,
        transaction_ids=[str(records[0].id)],
    )
    kept = await categorize_job(keep, own_ledger)
    assert (kept.rules_used, kept.rules_from_ledger, kept.transactions_processed) == (1, False, 1)
    assert [json_format.Parse(s, fj.CategoryRule()) for s in await own_ledger.saved_rules()] == [coffee]

    # What the hourly schedule sends: no ids, no rules. The kept rule runs before the model.
    hourly = await categorize_job(fj.CategorizationJob(method=fj.CATEGORIZATION_METHOD_HYBRID), own_ledger)
    assert (hourly.rules_used, hourly.rules_from_ledger) == (1, True)
    after = await own_ledger.transactions("acc_k")
    coffees = [r for r in after if "starbucks" in r.payee.casefold() or "costa coffee" in r.payee.casefold()]
    assert coffees and all(r.category == "coffee" and r.category_method == "rules" for r in coffees)
    assert all(r.needs_review for r in after if r not in coffees)  # 60 transactions, none labelled: no model

    # A job's own rules win without replacing the kept ones; save_rules without rules clears them.
    other = json_format.ParseDict({**COFFEE_RULE, "category": "cafe"}, fj.CategoryRule())
    own = fj.CategorizationJob(
        method=fj.CATEGORIZATION_METHOD_RULES, rules=[other], transaction_ids=[str(coffees[0].id)]
    )
    assert dict((await categorize_job(own, own_ledger)).categories) == {"cafe": 1}
    assert len(await own_ledger.saved_rules()) == 1
    clear = fj.CategorizationJob(
        method=fj.CATEGORIZATION_METHOD_AI, save_rules=True, transaction_ids=[str(coffees[0].id)]
    )
    await categorize_job(clear, own_ledger)
    assert await own_ledger.saved_rules() == []
    with pytest.raises(CategorizationInputError, match="method rules needs at least one rule"):
        await categorize_job(fj.CategorizationJob(method=fj.CATEGORIZATION_METHOD_RULES), own_ledger)


async def test_a_model_is_trained_again_only_when_a_person_changes_the_labels(own_ledger: Ledger) -> None:
    """The hourly run keeps the process's model while nobody labels anything; a new label, or a
    label changed, trains a new one, and what it decides follows the new labels."""
    train, test = split(labelled_set())
    history = await load(own_ledger, "acc_history", train, labelled=True)
    fresh = await load(own_ledger, "acc_new", test[:10], labelled=False)
    models = TrainedModels()
    first = await categorize(own_ledger, method="ai", models=models, transaction_ids=[fresh[0].id])
    assert models.trainings == 1 and first.processed == 1
    # The hourly run: every uncategorized transaction, on the same model.
    again = await categorize(own_ledger, method="ai", models=models)
    assert models.trainings == 1 and again.processed == 10 - first.by_model
    assert again.by_model > 0
    assert again.training_transactions == first.training_transactions == len(train)

    # A person labels one more transaction: the next run trains on len(train) + 1.
    await own_ledger.assign_categories([CategoryAssignment(fresh[0].id, "groceries", "manual")])
    third = await categorize(own_ledger, method="ai", models=models, transaction_ids=[fresh[1].id])
    assert models.trainings == 2 and third.training_transactions == len(train) + 1
    # A person relabels one (same count, same newest id): trained again.
    await own_ledger.assign_categories([CategoryAssignment(history[0].id, "travel", "manual")])
    await categorize(own_ledger, method="ai", models=models, transaction_ids=[fresh[1].id])
    assert models.trainings == 3
    # What a run itself wrote (method "ai") is not a label: no training for it.
    await categorize(own_ledger, method="ai", models=models, transaction_ids=[fresh[2].id])
    assert models.trainings == 3
    # A relabel written by a process whose clock is behind (categorized_at in the past, same count,
    # same newest id) still trains again: the version is read from the labels themselves.
    async with own_ledger.sessions.begin() as session:
        await session.execute(
            update(LedgerTransaction)
            .where(LedgerTransaction.id == history[1].id)
            .values(category="gifts", categorized_at=datetime(2001, 1, 1, tzinfo=UTC))
        )
    await categorize(own_ledger, method="ai", models=models, transaction_ids=[fresh[3].id])
    assert models.trainings == 4
