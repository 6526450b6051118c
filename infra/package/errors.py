"""The one error of packaging."""

from __future__ import annotations


class PackagingError(RuntimeError):
    """The stage's configuration, the data plane and chalice's output do not fit together."""
