"""The `ai` categorizer: a local text classifier trained on the ledger's own categorized transactions.

TF-IDF over a transaction's payee and description (word uni- and bigrams plus
character 3-5-grams, which carry merchant names across the ways banks spell
them: "AMZN Mktp DE", "Amazon.de Marketplace"), the direction and size of the
amount, into a multinomial logistic regression. Nothing is downloaded: the model
knows exactly what the user has categorized, in the user's own categories. It
learns only from categories a person set (Ledger.labelled), never from what a
rule or the model wrote, so running a job again decides the same way.

It is never persisted. Training on a few thousand transactions takes well under
a second, so a run retrains from the ledger: the model cannot go stale, and no
trained object is ever pickled into Redis or onto disk.

Too little to learn from (fewer than MIN_LABELLED labelled transactions, or
fewer than two categories) is not an error: `train` says why in words, and the
run leaves those transactions for review with that reason.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Final

import numpy as np

from worker_financial.ledger.entries import TransactionRecord

MODEL_NAME: Final = "tfidf-logreg"
# Below these the model would guess rather than learn: say so instead.
MIN_LABELLED: Final = 20
MIN_CATEGORIES: Final = 2
# The newest labelled transactions a run learns from: bounds a run's training time on a large ledger.
MAX_TRAINING: Final = 50_000
_DIGITS: Final = re.compile(r"\d")


def text_of(payee: str, description: str, amount: Decimal) -> str:
    """What the model reads: payee and description, digits folded (store numbers, dates and card
    digits tell nothing about the category), plus two tokens for the money: its direction and its
    order of magnitude (a power of two of whole units), which tell rent from a coffee when the
    payee is one the model has never seen."""
    direction = "zzmoneyin" if amount > 0 else "zzmoneyout"
    magnitude = int(abs(amount)).bit_length()
    return _DIGITS.sub("0", f"{payee} {description}".casefold()) + f" {direction} zzsize{magnitude}"


@dataclass(frozen=True, slots=True)
class Prediction:
    category: str
    confidence: float


class CategoryModel:
    """A trained classifier; `predict` gives each transaction's likeliest category and its probability."""

    def __init__(self, pipeline: Any, trained_on: int) -> None:
        """`pipeline` is a fitted scikit-learn Pipeline (typed Any: scikit-learn ships no types)."""
        self._pipeline = pipeline
        self.trained_on = trained_on
        self.categories: tuple[str, ...] = tuple(str(c) for c in pipeline.classes_)

    def predict_texts(self, texts: Sequence[str], allowed: Sequence[str] = ()) -> list[Prediction]:
        """Likeliest category per text; with `allowed`, the likeliest among those (its probability
        is not renormalized: a model that thinks "none of these" stays unsure)."""
        if not texts:
            return []
        probabilities = np.asarray(self._pipeline.predict_proba(list(texts)))
        if allowed:
            mask = np.array([c in set(allowed) for c in self.categories])
            probabilities = np.where(mask, probabilities, -1.0)
        best = probabilities.argmax(axis=1)
        return [
            Prediction(self.categories[int(i)], float(probabilities[row, int(i)]))
            for row, i in enumerate(best)
        ]

    def predict(
        self, transactions: Sequence[TransactionRecord], allowed: Sequence[str] = ()
    ) -> list[Prediction]:
        return self.predict_texts([text_of(t.payee, t.description, t.amount) for t in transactions], allowed)


def _pipeline() -> Any:
    """A fresh, untrained pipeline. scikit-learn is imported here, on the first training, not with
    the module: it takes seconds to import on a busy machine, and worker-financial's start-up (and
    every job that needs no model) should not wait for it."""
    from sklearn.feature_extraction.text import TfidfVectorizer  # noqa: PLC0415
    from sklearn.linear_model import LogisticRegression  # noqa: PLC0415
    from sklearn.pipeline import FeatureUnion, Pipeline  # noqa: PLC0415

    features = FeatureUnion(
        [
            ("words", TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)),
            ("chars", TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), sublinear_tf=True)),
        ]
    )
    return Pipeline([("features", features), ("classifier", LogisticRegression(C=10.0, max_iter=2_000))])


def train_texts(texts: Sequence[str], categories: Sequence[str]) -> CategoryModel | str:
    """A model trained on these examples, or why there are too few to train one (in words)."""
    counts = Counter(categories)
    if len(texts) < MIN_LABELLED or len(counts) < MIN_CATEGORIES:
        return (
            f"too few categorized transactions to train the model: the ledger has {len(texts)} in "
            f"{len(counts)} categor{'y' if len(counts) == 1 else 'ies'}, it needs at least {MIN_LABELLED} "
            f"in {MIN_CATEGORIES} or more"
        )
    pipeline = _pipeline()
    pipeline.fit(list(texts), list(categories))
    return CategoryModel(pipeline, len(texts))


def train(labelled: Sequence[TransactionRecord]) -> CategoryModel | str:
    """A model trained on categorized transactions (see train_texts)."""
    examples = [t for t in labelled if t.category]
    return train_texts(
        [text_of(t.payee, t.description, t.amount) for t in examples], [str(t.category) for t in examples]
    )
