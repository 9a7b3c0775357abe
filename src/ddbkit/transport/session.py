"""From a ConnectionSpec to botocore's trusted parts: a session (the credential chain), the
region, the endpoint and the retry budget.

botocore owns profiles, SSO, assume-role, container and instance credentials and their refresh;
ddbkit chooses the defaults (bounded timeouts, its own retry budget) and, for the local engine,
uses a session that cannot see the user's AWS profiles at all.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.config import Config
from botocore.exceptions import BotoCoreError

from ddbkit import errors
from ddbkit.options import MAX_ATTEMPTS
from ddbkit.transport.botoerrors import Context, setup_error, translate
from ddbkit.transport.retry import Backoff
from ddbkit.transport.spec import ConnectionSpec

LOCAL_REGION = "us-east-1"
# DynamoDB Local accepts any credentials; these make it obvious in its logs who called.
LOCAL_CREDENTIALS = ("ddbkit", "ddbkit")
DEFAULT_POOL_SIZE = 32


@dataclasses.dataclass(frozen=True)
class Resolved:
    """What every transport is built from: the spec made concrete."""

    spec: ConnectionSpec
    session: botocore.session.Session
    client: Any  # the botocore DynamoDB client: endpoint resolution and control-plane calls
    retry: Backoff

    @property
    def endpoint_url(self) -> str:
        return str(self.client.meta.endpoint_url)

    @property
    def region(self) -> str:
        return str(self.client.meta.region_name)


def check_endpoint_url(url: str) -> str:
    """``url`` if it is an http(s) URL with a host and a valid port, else a ValidationError."""
    fix = "give it as http(s)://HOST[:PORT], e.g. http://127.0.0.1:8000"
    if not isinstance(url, str) or not url.strip():
        raise errors.ValidationError(f"the endpoint URL is empty: {fix}")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in url.strip()):
        raise errors.ValidationError(
            f"the endpoint URL {url.strip().encode('unicode_escape').decode()!r} holds a control "
            f"character: {fix}"
        )
    try:
        parts = urlsplit(url.strip())
        port = parts.port  # raises ValueError for a port out of range or not a number
    except ValueError as exc:
        raise errors.ValidationError(f"invalid endpoint URL {url!r} ({exc}): {fix}") from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise errors.ValidationError(f"invalid endpoint URL {url!r}: {fix}")
    if port == 0:
        raise errors.ValidationError(f"invalid endpoint URL {url!r} (port 0): {fix}")
    return url.strip()


def shown_url(url: str) -> str:
    """``url`` fit to print: ``http://user:secret@host`` becomes ``http://user:***@host``."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.netloc.rpartition("@")[2]
    return parts._replace(netloc=f"{parts.username}:***@{host}").geturl()


def resolve(spec: ConnectionSpec) -> Resolved:
    """The session, botocore client and retry budget for ``spec`` (no request is sent)."""
    if spec.endpoint_url is not None:
        spec = dataclasses.replace(spec, endpoint_url=check_endpoint_url(spec.endpoint_url))
    timeouts = (spec.connect_timeout, spec.read_timeout)
    if spec.local:
        if spec.endpoint_url is None:
            from ddbkit import local as local_engine

            # Recorded in the spec: a worker rebuilding it reaches this very engine.
            spec = dataclasses.replace(spec, endpoint_url=local_engine.running_endpoint())
        session = _isolated_session(spec.region or LOCAL_REGION)
        client = _make_client(session, spec.endpoint_url, timeouts)
        return Resolved(spec, session, client, _retry_policy(session, spec.max_attempts))
    try:
        session = _session(spec, spec.region)
        if session.get_config_variable("region") is None:
            # AWS_REGION is what the AWS CLI v2 and most SDKs read; botocore reads only
            # AWS_DEFAULT_REGION. A custom endpoint (DynamoDB Local, Alternator, LocalStack)
            # still needs a region to sign with; any region will do there.
            custom = spec.endpoint_url or os.environ.get("AWS_ENDPOINT_URL_DYNAMODB")
            fallback = os.environ.get("AWS_REGION") or (
                LOCAL_REGION if custom or os.environ.get("AWS_ENDPOINT_URL") else None
            )
            if fallback:
                session = _session(spec, fallback)
        retry = _retry_policy(session, spec.max_attempts)
        client = _make_client(session, spec.endpoint_url, timeouts)
    except BotoCoreError as exc:
        raise _connect_error(exc) from exc
    except ValueError as exc:
        raise setup_value_error(exc) from exc
    return Resolved(spec, session, client, retry)


def _session(spec: ConnectionSpec, region: str | None) -> botocore.session.Session:
    session = botocore.session.Session(profile=spec.profile)
    if spec.aws_access_key_id is not None or spec.aws_secret_access_key is not None:
        session.set_credentials(
            spec.aws_access_key_id, spec.aws_secret_access_key, spec.aws_session_token
        )
    if region is not None:
        session.set_config_variable("region", region)
    return session


def _connect_error(exc: BotoCoreError) -> errors.DdbkitError:
    from botocore.exceptions import NoRegionError

    if isinstance(exc, NoRegionError):
        return errors.ValidationError(
            "no AWS region configured: pass --region, set AWS_REGION, or run 'aws configure'",
            cause=exc,
        )
    return setup_error(exc) or translate(exc, Context(endpoint="AWS"))


def setup_value_error(exc: ValueError) -> errors.DdbkitError:
    """botocore raises plain ValueErrors for a bad endpoint from the environment or profile,
    and for a credential_process that prints something other than JSON."""
    if isinstance(exc, json.JSONDecodeError):
        return errors.CredentialsError(
            f"the profile's credential_process printed something that is not JSON ({exc}): "
            "fix the command in ~/.aws/config, or pick another --profile",
            cause=exc,
        )
    if str(exc).startswith("Invalid endpoint"):
        return errors.ValidationError(
            f"{exc}: fix AWS_ENDPOINT_URL / the profile's endpoint_url, or pass --endpoint-url",
            cause=exc,
        )
    return errors.ValidationError(
        f"invalid AWS configuration: {exc}: fix ~/.aws/config or the AWS_* environment variables",
        cause=exc,
    )


def _isolated_session(region: str) -> botocore.session.Session:
    """A session that reads no profile, config or credentials file, so --local never reaches AWS."""
    session = botocore.session.Session(
        session_vars={
            "profile": (None, None, None, None),
            "config_file": (None, None, os.devnull, None),
            "credentials_file": (None, None, os.devnull, None),
        }
    )
    session.set_credentials(*LOCAL_CREDENTIALS)
    session.set_config_variable("region", region)
    return session


def _retry_policy(session: botocore.session.Session, max_attempts: int | None) -> Backoff:
    """ddbkit's retry budget: the caller's, else the user's AWS ``max_attempts``, else ours."""
    if max_attempts is None:
        configured = session.get_config_variable("max_attempts")
        if configured is not None:
            try:
                max_attempts = MAX_ATTEMPTS.check(int(configured))
            except (TypeError, ValueError):  # ValidationError is a ValueError
                raise errors.ValidationError(
                    f"max_attempts {configured!r} in the AWS config (or AWS_MAX_ATTEMPTS) "
                    f"{MAX_ATTEMPTS.expects()}: fix it"
                ) from None
    return Backoff(max_attempts=max_attempts) if max_attempts else Backoff()


def streams_client(resolved: Resolved) -> Any:
    """A botocore DynamoDB Streams client for the same credentials, region and endpoint.

    An endpoint that is not AWS's (DynamoDB Local, LocalStack...) serves streams itself, on the
    same URL; on AWS, botocore resolves the region's streams endpoint.
    """
    url = resolved.spec.endpoint_url
    if url is None and not urlsplit(resolved.endpoint_url).netloc.endswith(".amazonaws.com"):
        url = resolved.endpoint_url  # from AWS_ENDPOINT_URL(_DYNAMODB) or the profile
    config = resolved.client.meta.config
    timeouts = (config.connect_timeout, config.read_timeout)
    return _make_client(resolved.session, url, timeouts, service="dynamodbstreams")


def _make_client(
    session: botocore.session.Session,
    endpoint_url: str | None,
    timeouts: tuple[float, float],
    service: str = "dynamodb",
) -> Any:
    connect_timeout, read_timeout = timeouts
    config = Config(
        max_pool_connections=DEFAULT_POOL_SIZE,
        connect_timeout=connect_timeout,
        read_timeout=read_timeout,
        # ddbkit retries every request itself: one budget (retry.py), not botocore's inside ours.
        retries={"mode": "standard", "total_max_attempts": 1},
    )
    return session.create_client(service, endpoint_url=endpoint_url, config=config)


def is_loopback(url: str, local: bool = False) -> bool:
    """Whether ``url`` is on this machine (``local``: the engine ddbkit started always is)."""
    host = (urlsplit(url).hostname or "").lower()
    if local or host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback  # not "127.example.com"
    except ValueError:
        return False
