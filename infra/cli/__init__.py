"""Ops and developer tools. Commands live in one module per concern."""

from infra.cli import (
    clock,  # noqa: F401
    deploy,  # noqa: F401
    dev,  # noqa: F401  (registers its commands)
    liquidations,  # noqa: F401
    operations,  # noqa: F401
    payments,  # noqa: F401
    refunds,  # noqa: F401
    review,  # noqa: F401
    supervision,  # noqa: F401
)
from infra.cli.app import cli

__all__ = ["cli"]
