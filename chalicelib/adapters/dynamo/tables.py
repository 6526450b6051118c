"""The DynamoDB client and the names of this stage's tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tables:
    client: Any  # botocore DynamoDB client
    platform: str
    journal: str
