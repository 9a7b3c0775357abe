"""botocore's exceptions -> ddbkit errors: the one place a failed request gets its user message.

Every message is one line that names the endpoint or the setting at fault and what to do. A
timeout, a refused or dropped connection, throttling and 5xx replies are ``retryable``; the
retry loop (:mod:`ddbkit.transport.retry`) decides how often.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConfigParseError,
    ConnectTimeoutError,
    CredentialRetrievalError,
    EndpointConnectionError,
    HTTPClientError,
    InvalidConfigError,
    NoAuthTokenError,
    NoCredentialsError,
    ParamValidationError,
    PartialCredentialsError,
    ProfileNotFound,
    ReadTimeoutError,
    RefreshWithMFAUnsupportedError,
    SSOError,
    TokenRetrievalError,
    UnknownCredentialError,
)

from ddbkit import errors

_CREDENTIAL_PROBLEMS = (
    CredentialRetrievalError,
    NoAuthTokenError,
    RefreshWithMFAUnsupportedError,
    SSOError,
    TokenRetrievalError,
    UnknownCredentialError,
)
_CREDENTIALS_HINT = (
    "check your credentials (aws configure, AWS_PROFILE or --profile), or use --local for the "
    "local engine"
)


@dataclass(frozen=True)
class Context:
    """What a message needs to name: where the request went and what it was."""

    endpoint: str
    local: bool = False
    operation: str = ""
    table: str | None = None
    read_timeout: float | None = None


_URL_PASSWORD = re.compile(r"(\w+://[^/\s:@]*):[^@\s/]*@")


def one_line(text: str) -> str:
    """botocore's text as one line (its parameter validation spans several), with any password
    in a URL masked (botocore quotes the request URL in connection errors)."""
    joined = "; ".join(part.strip() for part in str(text).splitlines() if part.strip())
    return _URL_PASSWORD.sub(r"\1:***@", joined)


def translate(exc: Exception, context: Context) -> errors.DdbkitError:
    """The ddbkit error for a botocore exception raised while sending a request."""
    if isinstance(exc, ClientError):
        return errors.from_client_error(exc, table=context.table)
    if isinstance(exc, (NoCredentialsError, PartialCredentialsError)):
        return errors.CredentialsError(
            "no AWS credentials found: run 'aws configure', set AWS_PROFILE, pass --profile, "
            "or use --local for the local engine",
            cause=exc,
        )
    if isinstance(exc, (EndpointConnectionError, ConnectTimeoutError)):
        return errors.EndpointError(unreachable(context), cause=exc)
    if isinstance(exc, ReadTimeoutError):
        seconds = f" within {context.read_timeout:g}s" if context.read_timeout else ""
        return _maybe_applied(
            f"{context.endpoint} did not answer {context.operation or 'the request'}{seconds}: "
            "check that it is a DynamoDB endpoint and reachable, or raise the read timeout",
            exc,
        )
    if isinstance(exc, HTTPClientError) and "Invalid header value" in str(exc):
        # http.client refuses a header holding a newline; the value is a credential: never
        # print it, and never retry what cannot pass.
        return errors.CredentialsError(
            "the AWS credentials hold a character that cannot go in a request header (a line "
            "break?): check AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN",
            cause=exc,
        )
    if isinstance(exc, HTTPClientError):
        # The connection broke mid-request (reset, truncated reply): retryable.
        return _maybe_applied(
            f"the connection to {context.endpoint} broke during {context.operation}: "
            f"{one_line(str(exc))}",
            exc,
        )
    if isinstance(exc, BotoCoreError):
        return setup_error(exc) or errors.ServiceError(
            f"{type(exc).__name__}: {one_line(str(exc))}", cause=exc
        )
    raise TypeError(f"not a botocore error: {exc!r}")  # pragma: no cover - callers pass only those


def _maybe_applied(message: str, cause: Exception | None = None) -> errors.EndpointError:
    """An error after the request was sent: DynamoDB may have applied it."""
    error = errors.EndpointError(message, cause=cause)
    error.maybe_applied = True
    return error


def damaged_reply(endpoint: str, operation: str) -> errors.EndpointError:
    return _maybe_applied(
        f"the reply from {endpoint} to {operation} failed its CRC32 check (damaged on the way)"
    )


def setup_error(exc: BotoCoreError) -> errors.DdbkitError | None:
    """Errors of the set-up (profile, config files, credential sources), before or during calls."""
    if isinstance(exc, ProfileNotFound):
        return errors.CredentialsError(
            f"AWS profile {exc.kwargs.get('profile')!r} not found: check --profile / AWS_PROFILE "
            "and ~/.aws/config",
            cause=exc,
        )
    if isinstance(exc, ConfigParseError):
        return errors.CredentialsError(
            f"cannot read the AWS config file {exc.kwargs.get('path')!r}: it is not valid INI "
            "text; fix it (or point AWS_CONFIG_FILE / AWS_SHARED_CREDENTIALS_FILE elsewhere)",
            cause=exc,
        )
    if isinstance(exc, _CREDENTIAL_PROBLEMS):
        return errors.CredentialsError(
            f"could not get AWS credentials: {one_line(str(exc))} ({_CREDENTIALS_HINT})",
            cause=exc,
        )
    if isinstance(exc, InvalidConfigError):
        return errors.ValidationError(
            f"invalid AWS configuration: {one_line(str(exc))}: fix ~/.aws/config or the "
            "AWS_* environment variables",
            cause=exc,
        )
    if isinstance(exc, ParamValidationError):
        return errors.ValidationError(f"invalid request: {one_line(str(exc))}", cause=exc)
    return None


def unreachable(context: Context) -> str:
    if context.local:
        return (
            f"cannot reach the local engine at {context.endpoint}: "
            "start it with 'ddbkit local start'"
        )
    return f"cannot reach {context.endpoint}: check --endpoint-url / --region and your network"
