"""Every error ddbkit raises, under one base class.

Each error's message is one line that names the fix. AWS error codes map to classes through one
table (``_BY_CODE``); the botocore exception stays reachable as ``.cause``, its code as ``.code``.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any


class DdbkitError(Exception):
    """Base of every ddbkit error: a one-line, user-facing message.

    ``retryable`` says whether sending the same request again may succeed (throttling, 5xx,
    a dropped connection); ddbkit's one retry loop (transport/retry.py) retries those with
    backoff, never the others.
    """

    retryable = False

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        cause: BaseException | None = None,
        retryable: bool | None = None,
    ):
        super().__init__(message)
        self.message = message
        self.code = code
        self.cause = cause
        if retryable is not None:
            self.retryable = retryable


def annotated(error: DdbkitError, note: str) -> DdbkitError:
    """A copy of ``error`` (same class, code, cause) whose message ends with ``; note``."""
    final = copy.copy(error)
    final.message = f"{error.message}; {note}"
    final.args = (final.message,)
    return final


class ValidationError(DdbkitError, ValueError):
    """Bad input found before any request was sent (a value, a key, an argument)."""


class InvalidValueError(ValidationError):
    """A Python value DynamoDB cannot store; ``path`` names the attribute (``a.b[2]``)."""

    def __init__(self, message: str, *, path: str = ""):
        where = f"attribute {path!r}: " if path else ""
        super().__init__(f"{where}{message}")
        self.path = path


class InvalidKeyError(ValidationError):
    """A key that does not match the table's key schema."""


class WhereSyntaxError(ValidationError):
    """A where-clause that does not parse; the message shows the text with a caret at the fault."""

    def __init__(self, reason: str, *, text: str, position: int, what: str = "where-clause"):
        self.reason = reason
        self.what = what
        self.text = text
        self.position = position
        self.column = position + 1
        one_line_text = text.replace("\n", " ")
        caret = " " * position + "^"
        super().__init__(
            f"{what} syntax error at column {self.column}: {reason}\n  {one_line_text}\n  {caret}"
        )


class PlanError(ValidationError):
    """A where-clause that cannot run the way it was asked (e.g. query without a partition key)."""


class MissingExtraError(DdbkitError):
    """An optional dependency is not installed."""

    def __init__(self, package: str, extra: str):
        super().__init__(
            f"this needs {package}, which is not installed: pip install 'ddbkit[{extra}]'"
        )


class TableNotFoundError(DdbkitError):
    """The table does not exist on the connected endpoint."""


class ConditionFailedError(DdbkitError):
    """A put/update/delete condition was false; nothing was written."""


@dataclass(frozen=True)
class CancelReason:
    """Why one action of a canceled transaction failed.

    ``number`` counts the actions from 1 in the order they were added; ``action`` says which
    (``"update orders {id: 'o1'}"``; empty when the actions are unknown); ``code`` is
    DynamoDB's (``ConditionalCheckFailed``, ``TransactionConflict`` ...), ``reason`` it in words.
    """

    number: int
    code: str
    reason: str
    action: str = ""

    def __str__(self) -> str:
        what = f"action {self.number}, {self.action}" if self.action else f"action {self.number}"
        return f"{what}: {self.reason}"


class TransactionCanceled(DdbkitError):
    """A transaction DynamoDB canceled: none of its actions were applied.

    ``reasons`` holds one :class:`CancelReason` per failed action (the message names each);
    ``.cause`` is the botocore error.
    """

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        cause: BaseException | None = None,
        retryable: bool | None = None,
        reasons: Sequence[CancelReason] = (),
    ):
        super().__init__(message, code=code, cause=cause, retryable=retryable)
        self.reasons = tuple(reasons)

    def naming(self, actions: Sequence[str]) -> TransactionCanceled:
        """This error with each failed action described by ``actions`` (in the order sent)."""
        return _canceled(
            [dataclasses.replace(r, action=_nth(actions, r.number)) for r in self.reasons],
            code=self.code,
            cause=self.cause,
        )


def _nth(actions: Sequence[str], number: int) -> str:
    return actions[number - 1] if 0 < number <= len(actions) else ""


class ThrottledError(DdbkitError):
    """DynamoDB kept throttling for the whole retry budget (see transport/retry.py)."""

    retryable = True


class AccessDeniedError(DdbkitError):
    """The credentials are not allowed to do this."""


class CredentialsError(DdbkitError):
    """No usable credentials were found, or they were rejected."""


class EndpointError(DdbkitError):
    """The endpoint could not be reached, or the connection broke mid-request.

    ``maybe_applied``: the request was sent and its reply lost (a read timeout, a broken
    connection, a damaged reply), so DynamoDB may have applied it; a write that is not
    idempotent is not sent again then.
    """

    retryable = True
    maybe_applied = False


class LocalEngineError(DdbkitError):
    """The local engine could not be installed, started, stopped or found."""


class LocalEngineNotRunningError(LocalEngineError):
    """``--local`` was asked for but no local engine is running."""


class ResourceInUseError(DdbkitError):
    """The table already exists, or is being created or deleted."""


class ServiceError(DdbkitError):
    """Any other error DynamoDB returned."""


class IncompleteWriteError(DdbkitError):
    """A bulk write that did not write every item it was given; ``summary`` says what happened.

    Nothing is dropped silently: ``summary.rejections`` lists every item not written, and why.
    """

    def __init__(self, message: str, summary: Any) -> None:
        super().__init__(message)
        self.summary = summary


class Interrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped a long job; the message says what was done and how to go on.

    A KeyboardInterrupt still, so ``except Exception`` never swallows it. ``summary`` is the
    job's summary (a WriteSummary, an ExportResult ...) when there is one.
    """

    def __init__(self, message: str, summary: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.summary = summary


_BY_CODE: dict[str, type[DdbkitError]] = {
    "ResourceNotFoundException": TableNotFoundError,
    "ConditionalCheckFailedException": ConditionFailedError,
    "ProvisionedThroughputExceededException": ThrottledError,
    "ThrottlingException": ThrottledError,
    "RequestLimitExceeded": ThrottledError,
    "LimitExceededException": ThrottledError,  # DynamoDB Streams' GetRecords throttling
    "AccessDeniedException": AccessDeniedError,
    "UnrecognizedClientException": CredentialsError,
    "InvalidSignatureException": CredentialsError,
    "ExpiredTokenException": CredentialsError,
    "MissingAuthenticationTokenException": CredentialsError,
    "ResourceInUseException": ResourceInUseError,
    "ValidationException": ValidationError,
    "TransactionCanceledException": TransactionCanceled,
}

# Server-side failures that a later attempt may not meet.
_RETRYABLE_CODES = frozenset(
    {
        "InternalServerError",
        "InternalFailure",
        "ServiceUnavailable",
        "TransactionInProgressException",
    }
)

_HINTS: dict[type[DdbkitError], str] = {
    TableNotFoundError: "check the name with 'ddbkit tables' (and --region/--endpoint-url/--local)",
    ConditionFailedError: "the condition was false, nothing was changed",
    ThrottledError: "slow down or raise the table's capacity",
    AccessDeniedError: "check the IAM policy of these credentials",
    CredentialsError: "check your credentials (aws configure, AWS_PROFILE or --profile)",
    ResourceInUseError: "wait for the table to become ACTIVE, or pick another name",
}


def from_client_error(error: Any, *, table: str | None = None) -> DdbkitError:
    """Turn a botocore ``ClientError`` into the matching ddbkit error, keeping it as the cause."""
    response = getattr(error, "response", {}) or {}
    status = int(response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0) or 0)
    info = response.get("Error", {})
    code = str(info.get("Code", "Unknown"))
    # One line, whatever the service put in it.
    message = " ".join(str(info.get("Message", "")).split()) or code
    cls = _BY_CODE.get(code, ServiceError)
    if cls is TableNotFoundError:
        what = f"table {table!r} not found" if table else f"not found: {message}"
        text = f"{what}: {_HINTS[cls]}"
    elif cls is ConditionFailedError:
        text = f"condition failed: {_HINTS[cls]}"
    elif cls in _HINTS:
        text = f"{code}: {message} ({_HINTS[cls]})"
    else:
        text = f"{code}: {message}"
    retryable = cls.retryable or status >= 500 or code in _RETRYABLE_CODES
    if cls is TransactionCanceled:
        return canceled(response.get("CancellationReasons") or [], code=code, cause=error)
    return cls(text, code=code, cause=error, retryable=retryable)


# What each of DynamoDB's cancellation codes means, as the end of one line.
_CANCEL_REASONS = {
    "ConditionalCheckFailed": "condition failed",
    "TransactionConflict": "another transaction or write was changing the item (try again)",
    "ItemCollectionSizeLimitExceeded": "the item collection is over its 10 GB limit",
    "ThrottlingError": "throttled (try again, or raise the table's capacity)",
    "ProvisionedThroughputExceeded": "throttled (try again, or raise the table's capacity)",
}


def canceled(
    reasons: Sequence[Any], *, code: str | None = None, cause: BaseException | None = None
) -> TransactionCanceled:
    """The error for DynamoDB's ``CancellationReasons`` (one per action, in order; code
    ``None`` for the actions that did not fail)."""
    found = []
    for number, entry in enumerate(reasons, start=1):
        entry = entry if isinstance(entry, dict) else {}
        why = str(entry.get("Code") or "None")
        if why == "None":
            continue
        text = " ".join(str(entry.get("Message") or "").split())
        reason = _CANCEL_REASONS.get(why) or (f"{why}: {text}" if text else why)
        found.append(CancelReason(number, why, reason))
    return _canceled(found, code=code, cause=cause)


def _canceled(
    reasons: Sequence[CancelReason], *, code: str | None, cause: BaseException | None
) -> TransactionCanceled:
    listed = "; ".join(str(r) for r in reasons) or "DynamoDB gave no reason"
    return TransactionCanceled(
        f"transaction canceled, nothing was applied: {listed}",
        code=code,
        cause=cause,
        reasons=reasons,
    )
