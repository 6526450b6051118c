"""Binding the stack's ports, with an error that names the variable to change."""

from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class PortInUse(RuntimeError):
    """A port the stack was told to use is taken (by another program or another stack)."""


def bind(what: str, variable: str, port: int, binder: Callable[[], T]) -> T:
    try:
        return binder()
    except OSError as error:
        if error.errno != errno.EADDRINUSE:
            raise
        raise PortInUse(
            f"{what}: 127.0.0.1:{port} is already in use; set {variable} to another port "
            "(0 picks a free one)"
        ) from None
