"""The categorization processor: which transactions, decided how, written once.

Which: the job's `transaction_ids`, else every transaction without a category
(the hourly schedule's hybrid run). A transaction a person categorized
("manual") is never recategorized: it is counted as kept, and it is what the
model learns from.

How, per method:
- `rules`: the first of the user's rules that holds; no rule, left for review.
  The rules are the job's, else those kept in the ledger (a job with
  `save_rules` keeps its own), so the hourly schedule's job, which carries
  none, runs the user's rules.
- `ai`: the model's category when its probability reaches `confidence`,
  else left for review (as when too little is categorized to train one).
- `hybrid`: the rule when one holds (the model is not even asked, so it can
  never override a user's rule), else the model as for `ai`.

Written idempotently (Ledger.assign_categories): the same decision written twice
is one state, a review mark never erases a category, and a category the
model or a rule set is recomputed only when its transaction is named again.

`categorize` is the entry point for anything but a job (the benchmark calls it
on N transactions); `categorize_job` reads a CategorizationJob into it.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from google.protobuf import json_format

from jobmesh.jobs.v1 import financial_jobs_pb2 as fj
from jobmesh.jobs.v1 import financial_results_pb2 as fr
from worker_financial.categorization import model as ml
from worker_financial.categorization.errors import CategorizationInputError
from worker_financial.categorization.rules import Rule, compile_rules, first_match
from worker_financial.ledger.entries import CategoryAssignment, TransactionRecord
from worker_financial.ledger.store import RECOMPUTABLE, Ledger

Method = Literal["rules", "ai", "hybrid"]
METHODS: Final[dict[int, Method]] = {
    fj.CATEGORIZATION_METHOD_RULES: "rules",
    fj.CATEGORIZATION_METHOD_AI: "ai",
    fj.CATEGORIZATION_METHOD_HYBRID: "hybrid",
}
DEFAULT_CONFIDENCE: Final = 0.6
NO_RULE: Final = "no rule matched"


@dataclass(slots=True)
class Outcome:
    """What a run did (the job's result message says the same in proto)."""

    method: Method
    processed: int = 0
    by_rules: int = 0
    by_model: int = 0
    left_for_review: int = 0
    kept_manual: int = 0
    training_transactions: int = 0
    model_categories: int = 0
    model_unavailable: str = ""
    categories: Counter[str] = field(default_factory=Counter)
    assignments: list[CategoryAssignment] = field(default_factory=list)


def decide(
    transactions: Sequence[TransactionRecord],
    *,
    method: Method,
    rules: Sequence[Rule],
    model: ml.CategoryModel | str | None,
    confidence: float,
    allowed: Sequence[str] = (),
) -> Outcome:
    """Each transaction's category (or review mark), without touching the ledger. `model` is the
    trained model, or why there is none (a str), or None when the method needs no model."""
    outcome = Outcome(method, processed=len(transactions))
    if isinstance(model, ml.CategoryModel):
        outcome.training_transactions, outcome.model_categories = model.trained_on, len(model.categories)
    elif isinstance(model, str):
        outcome.model_unavailable = model
    pending: list[TransactionRecord] = []
    for transaction in transactions:
        if transaction.category is not None and transaction.category_method not in RECOMPUTABLE:
            outcome.kept_manual += 1
            continue
        rule = first_match(rules, transaction) if method != "ai" else None
        if rule is not None:
            outcome.assignments.append(CategoryAssignment(transaction.id, rule.category, "rules", 1.0))
            outcome.by_rules += 1
            outcome.categories[rule.category] += 1
        elif method == "rules":
            outcome.assignments.append(CategoryAssignment(transaction.id, None, None, review_reason=NO_RULE))
        else:
            pending.append(transaction)
    if pending and isinstance(model, ml.CategoryModel):
        for transaction, guess in zip(pending, model.predict(pending, allowed), strict=True):
            if guess.confidence >= confidence:
                outcome.assignments.append(
                    CategoryAssignment(transaction.id, guess.category, "ai", guess.confidence)
                )
                outcome.by_model += 1
                outcome.categories[guess.category] += 1
            else:
                reason = f"model unsure: {guess.category} at {guess.confidence:.2f} < {confidence:.2f}"
                if method == "hybrid":
                    reason = f"{NO_RULE}; {reason}"
                outcome.assignments.append(
                    CategoryAssignment(transaction.id, None, None, guess.confidence, reason)
                )
    elif pending:
        reason = model if isinstance(model, str) else "no model"
        outcome.assignments.extend(
            CategoryAssignment(t.id, None, None, review_reason=reason) for t in pending
        )
    outcome.left_for_review = sum(1 for a in outcome.assignments if a.category is None)
    return outcome


async def train_from(ledger: Ledger) -> ml.CategoryModel | str:
    """A model trained on the ledger's categorized transactions (off the event loop: training is CPU
    work, and the worker's other jobs and lease renewals must keep running), or why not."""
    labelled = await ledger.labelled(ml.MAX_TRAINING)
    return await asyncio.to_thread(ml.train, labelled)


class TrainedModels:
    """The model a worker process last trained, kept while the ledger's labels stay the same.

    The hourly schedule's run would otherwise retrain on every slot (seconds for tens of
    thousands of labelled transactions) though nobody labelled anything since. The model is a
    function of the labelled set alone, so it is reused while `Ledger.labelled_version` is
    unchanged, and retrained the moment a person labels or relabels a transaction. Kept in memory
    only: never pickled, never shared.
    """

    def __init__(self) -> None:
        self._version: str | None = None
        self._model: ml.CategoryModel | str = ""
        self._lock = asyncio.Lock()
        self.trainings = 0  # how many times this process trained (the tests read it)

    async def model(self, ledger: Ledger) -> ml.CategoryModel | str:
        async with self._lock:  # two runs at once train once
            version = await ledger.labelled_version(ml.MAX_TRAINING)
            if version != self._version:
                self._model = await train_from(ledger)
                self._version = version
                self.trainings += 1
            return self._model


async def categorize(
    ledger: Ledger,
    *,
    method: Method,
    transaction_ids: Sequence[int] | None = None,
    rules: Sequence[Rule] = (),
    confidence: float = DEFAULT_CONFIDENCE,
    allowed: Sequence[str] = (),
    model: ml.CategoryModel | str | None = None,
    models: TrainedModels | None = None,
) -> Outcome:
    """Categorize the named transactions (None: every uncategorized one) and write the decisions.

    `model` may be passed in (a benchmark trains once and times categorization alone); otherwise
    an `ai` or `hybrid` run takes one from `models` (trained again only when the labels changed),
    or trains one from the ledger, when some transaction is left for it.
    CategorizationInputError when a named transaction is not in the ledger.
    """
    if transaction_ids is None:
        transactions = await ledger.uncategorized()
    else:
        wanted = sorted(set(transaction_ids))
        transactions = await ledger.transactions_by_id(wanted)
        missing = sorted(set(wanted) - {t.id for t in transactions})
        if missing:
            shown = ", ".join(str(i) for i in missing[:10]) + (" ..." if len(missing) > 10 else "")
            raise CategorizationInputError(f"{len(missing)} transaction id(s) not in the ledger: {shown}")
    if model is None and method != "rules":
        needs_model = any(
            (t.category is None or t.category_method in RECOMPUTABLE)
            and (method == "ai" or first_match(rules, t) is None)
            for t in transactions
        )
        if needs_model:
            model = await (models.model(ledger) if models is not None else train_from(ledger))
    decided = model
    # Off the event loop: matching many rules and predicting are CPU work, and the worker's other
    # jobs and lease renewals must keep running meanwhile.
    outcome = await asyncio.to_thread(
        lambda: decide(
            transactions, method=method, rules=rules, model=decided, confidence=confidence, allowed=allowed
        )
    )
    await ledger.assign_categories(outcome.assignments)
    return outcome


def _transaction_ids(job: fj.CategorizationJob) -> list[int] | None:
    if not job.transaction_ids:
        return None
    ids: list[int] = []
    for i, raw in enumerate(job.transaction_ids):
        try:
            ids.append(int(raw.strip()))
        except ValueError:
            raise CategorizationInputError(
                f"transaction_ids[{i}] is not a ledger transaction id (an integer): {raw!r}"
            ) from None
    return ids


async def _rules_of(
    job: fj.CategorizationJob, ledger: Ledger, allowed: Sequence[str]
) -> tuple[tuple[Rule, ...], bool]:
    """The rules a job runs with, and whether they are the ledger's kept ones: the job's own when it
    carries any (kept in the ledger first when it says save_rules), else the kept ones."""
    if job.rules or job.save_rules:
        rules = compile_rules(job.rules, allowed)  # refused before anything is kept
        if job.save_rules:
            await ledger.replace_rules([json_format.MessageToJson(r, indent=None) for r in job.rules])
        return rules, False
    kept = [json_format.Parse(spec, fj.CategoryRule()) for spec in await ledger.saved_rules()]
    try:
        return compile_rules(kept, allowed), bool(kept)
    except CategorizationInputError as exc:
        raise CategorizationInputError(f"the ledger's kept rules: {exc}") from None


async def categorize_job(
    job: fj.CategorizationJob, ledger: Ledger, models: TrainedModels | None = None
) -> fr.CategorizationResult:
    """Run one categorization job against `ledger` and say what it did."""
    method = METHODS.get(job.method)
    if method is None:
        raise CategorizationInputError("method is required: rules, ai or hybrid")
    options = job.options
    if options.HasField("ai_model") and options.ai_model != ml.MODEL_NAME:
        raise CategorizationInputError(
            f"ai_model {options.ai_model!r} is unknown: the one model is {ml.MODEL_NAME!r}"
        )
    allowed = [c.strip() for c in options.user_categories if c.strip()]
    rules, from_ledger = await _rules_of(job, ledger, allowed)
    if method == "rules" and not rules:
        raise CategorizationInputError(
            "method rules needs at least one rule: in the job's `rules`, or kept in the ledger (save_rules)"
        )
    confidence = options.confidence if options.HasField("confidence") else DEFAULT_CONFIDENCE
    outcome = await categorize(
        ledger,
        method=method,
        transaction_ids=_transaction_ids(job),
        rules=rules,
        confidence=confidence,
        allowed=allowed,
        models=models,
    )
    return fr.CategorizationResult(
        method=job.method,
        transactions_processed=outcome.processed,
        categorized_by_rules=outcome.by_rules,
        categorized_by_model=outcome.by_model,
        left_for_review=outcome.left_for_review,
        kept_manual=outcome.kept_manual,
        training_transactions=outcome.training_transactions,
        model_categories=outcome.model_categories,
        model_unavailable=outcome.model_unavailable,
        categories=dict(outcome.categories),
        rules_used=len(rules) if method != "ai" else 0,
        rules_from_ledger=from_ledger and method != "ai",
    )
