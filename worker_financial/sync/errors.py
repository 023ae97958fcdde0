"""Why a transaction-sync cannot succeed as it was asked: retrying would fail the same way."""

from __future__ import annotations


class SyncInputError(ValueError):
    """The job's input is wrong (a missing field, an unreadable statement, an unknown account).

    A ValueError, so the task's `throws=` never retries it and its dead letter
    names the problem: the DLQ files it under validation.
    """


class ProviderNotBuiltError(SyncInputError):
    """The job names a provider whose client jobmesh does not have yet."""
