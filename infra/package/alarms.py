"""CloudWatch alarms of a packaged stage."""

from __future__ import annotations

from typing import Any


def alarm(name: str, description: str, metric: dict[str, Any], threshold: int) -> dict[str, Any]:
    """Fires when the metric's 5-minute Sum exceeds the threshold; tells AlarmTopicArn."""
    actions = {"Fn::If": ["HasAlarmTopic", [{"Ref": "AlarmTopicArn"}], {"Ref": "AWS::NoValue"}]}
    return {
        "Type": "AWS::CloudWatch::Alarm",
        "Properties": {
            "AlarmName": {"Fn::Sub": name},
            "AlarmDescription": description + " docs/runbook.md, Alarms.",
            **metric,
            "Statistic": "Sum",
            "Period": 300,
            "EvaluationPeriods": 1,
            "Threshold": threshold,
            "ComparisonOperator": "GreaterThanThreshold",
            "TreatMissingData": "notBreaching",
            "AlarmActions": actions,
            "OKActions": actions,
        },
    }
