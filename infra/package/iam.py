"""Least-privilege IAM: explicit actions, and only the stage's own resources."""

from __future__ import annotations

from typing import Any

ITEM_ACTIONS = [  # TransactWriteItems is authorised through these per-item actions
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:Query",
]
CONSUMER_ACTIONS = ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"]
LOG_ACTIONS = ["logs:CreateLogStream", "logs:PutLogEvents"]
ARN = "arn:${AWS::Partition}:%s:${AWS::Region}:${AWS::AccountId}:%s"


def allow(sid: str, actions: list[str], resources: list[Any]) -> dict[str, Any]:
    wrapped = [r if isinstance(r, dict) else {"Fn::Sub": r} for r in resources]
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": wrapped}
