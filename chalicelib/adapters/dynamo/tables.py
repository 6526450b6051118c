"""The DynamoDB client and the names of this stage's tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError


@dataclass(frozen=True)
class Tables:
    client: Any  # botocore DynamoDB client
    platform: str
    journal: str

    def update_if(self, request: dict[str, Any]) -> bool:
        """One conditional UpdateItem; False if its condition did not hold."""
        try:
            self.client.update_item(**request)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                return False
            raise
        return True
