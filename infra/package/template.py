"""Reading and merging CloudFormation templates, and the invariants of a packaged one."""

from __future__ import annotations

import json
import re
from typing import Any

from infra.package.errors import PackagingError

FUNCTION_TYPE = "AWS::Serverless::Function"
LOG_GROUP_TYPE = "AWS::Logs::LogGroup"
API_TYPE = "AWS::Serverless::Api"
VISIBILITY_FACTOR = 6  # queue visibility timeout >= 6 x the consumer's function timeout
HARD_CODED_PARTITION = re.compile(r"arn:aws[:\"]")
LAMBDA_LOG_GROUP = re.compile(r"^/aws/lambda/\$\{(\w+)\}$")
WORD_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def deep_merge(overlay: Any, base: Any) -> Any:
    """`chalice package --merge-template` semantics (mappings merge, anything else replaces),
    except that an intrinsic function (`Ref`, `Fn::...`) is a value: it replaces too."""
    if isinstance(overlay, dict) and isinstance(base, dict) and not _is_intrinsic(overlay):
        return {**base, **{key: deep_merge(value, base.get(key)) for key, value in overlay.items()}}
    return overlay


def _is_intrinsic(value: dict[str, Any]) -> bool:
    return len(value) == 1 and any(key == "Ref" or key.startswith("Fn::") for key in value)


def sub_string(value: Any, where: str) -> str:
    if isinstance(value, dict) and isinstance(value.get("Fn::Sub"), str) and len(value) == 1:
        return str(value["Fn::Sub"])
    raise PackagingError(f"{where}: expected a name of the form {{'Fn::Sub': '${{Stage}}-...'}}")


def resolve_stage(sub: str, stage: str) -> str:
    return sub.replace("${Stage}", stage)


def kebab(logical_id: str) -> str:
    return WORD_BOUNDARY.sub("-", logical_id).lower()


def check(template: dict[str, Any], stage: str) -> None:
    """Raise PackagingError unless the merged template keeps the invariants of the module."""
    if HARD_CODED_PARTITION.search(json.dumps(template)):
        raise PackagingError("the template hard-codes the aws partition; use ${AWS::Partition}")
    resources: dict[str, Any] = template["Resources"]
    for logical_id, resource in resources.items():
        if "Type" not in resource:
            raise PackagingError(f"{logical_id}: the overlay names a resource chalice did not make")
        if resource["Type"] != FUNCTION_TYPE:
            continue
        properties = resource["Properties"]
        role = properties.get("Role", {}).get("Fn::GetAtt", [None])[0]
        if resources.get(role, {}).get("Type") != "AWS::IAM::Role":
            raise PackagingError(f"{logical_id}: does not run under a role of the template")
        for name, event in properties.get("Events", {}).items():
            if event["Type"] != "SQS":
                continue
            queue_id = event["Properties"]["Queue"]["Fn::GetAtt"][0]
            visibility = resources[queue_id]["Properties"].get("VisibilityTimeout", 30)
            if visibility < VISIBILITY_FACTOR * properties["Timeout"]:
                raise PackagingError(
                    f"{logical_id}.{name}: {queue_id} VisibilityTimeout {visibility} s is less "
                    f"than {VISIBILITY_FACTOR} x the function's {properties['Timeout']} s "
                    f"(stage {stage})"
                )
