"""The version of ddbkit (its own module: the transport names it in User-Agent)."""

__version__ = "0.1.0"
