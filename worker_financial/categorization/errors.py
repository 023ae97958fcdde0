"""Why a categorization job cannot succeed as it was asked: retrying would fail the same way."""

from __future__ import annotations


class CategorizationInputError(ValueError):
    """The job's input is wrong (a rule's regex that does not compile, an unknown transaction id,
    an unknown model). A ValueError, so the task's `throws=` never retries it and the dead letter
    is filed under validation, naming the problem."""
