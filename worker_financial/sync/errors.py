"""What can stop a transaction-sync, sorted by what retrying would do.

The task hands each to the queue runtime, which retries or dead-letters the job,
and dlq-svc files the dead letter by the exception's class and bases
(dlq_svc/classification.py): a ValueError is validation (never retried: the
same input fails the same way), a RetryAfterError a rate_limit (retried after
the wait it names), a PermissionError authorization, a ConnectionError network.
No message ever holds a credential or token.
"""

from __future__ import annotations

from queue_system.errors import RetryAfterError


class SyncInputError(ValueError):
    """The job's input is wrong (a missing field, an unreadable statement, an unknown account).

    A ValueError, so the task's `throws=` never retries it and its dead letter
    names the problem: the DLQ files it under validation.
    """


class UnknownAccountError(SyncInputError):
    """The provider does not know the account the job names (it answered 404)."""


class UnknownResourceError(SyncInputError):
    """The provider has no such thing (HTTP 404 for something other than an account, e.g. a
    GoCardless requisition): the id is wrong, so retrying cannot help."""


class RateLimitedError(RetryAfterError):
    """The provider refused for now (HTTP 429), or the worker refused itself to keep the bank's
    daily allowance for the account: try again after `retry_after` seconds.

    Its class name and its base (RetryAfterError) are what the DLQ files as
    rate_limit; its `retry_after` replaces the job's backoff.
    """


class ProviderAuthError(PermissionError):
    """The provider refused the worker's credentials, or the worker has none for it.

    Retrying cannot help until someone fixes the configuration, so it is never
    retried (`retryable = False`); the DLQ files it as authorization.
    """

    retryable = False


class ProviderError(ConnectionError):
    """The provider failed (an HTTP 5xx, a broken reply, no answer): retried with the job's backoff;
    the DLQ files it as network. The message names the HTTP status as "HTTP 503"."""


class ProviderNotConfiguredError(ProviderAuthError):
    """The job names a provider this worker has no address or credentials for (its environment
    variables are unset): never retried, filed as authorization, and the message names the variables."""
