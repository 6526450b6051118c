"""Ops and developer tools. Commands live in one module per concern."""

from infra.cli import dev  # noqa: F401  (registers its commands)
from infra.cli.app import cli

__all__ = ["cli"]
