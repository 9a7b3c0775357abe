"""ConnectionSpec: everything needed to connect again, in any process, as a frozen value.

A live botocore client cannot leave its process, so a worker process (Dask, multiprocessing)
cannot be handed "this connection". It can be handed a ConnectionSpec: ``db.spec`` is the spec a
Database was built from, and ``ddbkit.connect(spec)`` builds an equal connection from it. The
spec holds only what the caller gave (and the endpoint a ``local=True`` connection found), so
everything else resolves in the worker as it did in the caller: profiles, environment, instance
metadata. Keys are held only when the caller passed them explicitly; ``repr`` masks them, and a
pickled spec carries them to whoever unpickles it, like any credential.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from ddbkit.options import CONNECT_TIMEOUT, MAX_ATTEMPTS, READ_TIMEOUT, optional

# A DynamoDB request is answered in milliseconds; a 1 MB Scan page on a busy DynamoDB Local in
# well under a second. Fifteen seconds without a byte means the endpoint is hung, and with the
# retry budget (retry.py) a hung endpoint is reported within about a minute.
DEFAULT_CONNECT_TIMEOUT = 5.0
DEFAULT_READ_TIMEOUT = 15.0
_SECRET = frozenset({"aws_secret_access_key", "aws_session_token"})


@dataclass(frozen=True)
class ConnectionSpec:
    """How to reach DynamoDB: picklable, comparable, and safe to print.

    ``max_attempts=None`` takes the profile's or AWS_MAX_ATTEMPTS' value where the connection
    is made, else 8 (see :mod:`ddbkit.transport.retry`).
    """

    endpoint_url: str | None = None
    region: str | None = None
    profile: str | None = None
    local: bool = False
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT
    max_attempts: int | None = None
    aws_access_key_id: str | None = field(default=None, repr=False)
    aws_secret_access_key: str | None = field(default=None, repr=False)
    aws_session_token: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        # Checked here, once, for every way a spec is made (connect(), by hand, unpickled).
        object.__setattr__(self, "connect_timeout", CONNECT_TIMEOUT.check(self.connect_timeout))
        object.__setattr__(self, "read_timeout", READ_TIMEOUT.check(self.read_timeout))
        object.__setattr__(self, "max_attempts", optional(MAX_ATTEMPTS, self.max_attempts))

    def __repr__(self) -> str:
        shown = []
        for spec_field in fields(self):
            value = getattr(self, spec_field.name)
            if value is None or value == spec_field.default:
                continue
            shown.append(f"{spec_field.name}={_masked(spec_field.name, value)!r}")
        return f"ConnectionSpec({', '.join(shown)})"

    @property
    def explicit_keys(self) -> bool:
        return self.aws_access_key_id is not None or self.aws_secret_access_key is not None


def _masked(name: str, value: object) -> object:
    if name in _SECRET:
        return "***"
    if name == "aws_access_key_id" and isinstance(value, str):
        return f"***{value[-4:]}" if len(value) > 8 else "***"
    return value
