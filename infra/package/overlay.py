"""The overlay merged onto chalice's output for one stage (infra/package/__init__.py)."""

from __future__ import annotations

from typing import Any

from infra.package.alarms import alarm
from infra.package.errors import PackagingError
from infra.package.gateway import definition_overlay
from infra.package.iam import ARN, CONSUMER_ACTIONS, ITEM_ACTIONS, LOG_ACTIONS, allow
from infra.package.template import (
    API_TYPE,
    FUNCTION_TYPE,
    LAMBDA_LOG_GROUP,
    LOG_GROUP_TYPE,
    kebab,
    resolve_stage,
    sub_string,
)
from infra.resources import QUEUE_TYPE, TABLE_TYPE

DEPLOY_PARAMETERS: dict[str, Any] = {
    "AuthIssuer": {
        "Type": "String",
        "Description": "Issuer (iss) of the province identity provider's tokens.",
        "AllowedPattern": "^https://\\S+$",
    },
    "BankUrl": {
        "Type": "String",
        "Description": "Base URL of the custodian bank's instruction API.",
        "AllowedPattern": "^https://\\S+$",
    },
    "SecretsRevision": {
        "Type": "String",
        "Default": "1",
        "Description": "Change after rotating a secret: makes CloudFormation re-read them.",
        "AllowedPattern": "^[A-Za-z0-9._-]{1,64}$",
    },
}


class Overlay:
    """The template merged onto chalice's output for one stage."""

    def __init__(
        self,
        stage: str,
        app_name: str,
        env: dict[str, str],
        plane: dict[str, Any],
        functions: dict[str, Any],
    ) -> None:
        self.stage = stage
        self.app_name = app_name
        self.env = env
        self.plane = plane
        self.resources: dict[str, Any] = functions["Resources"]
        self.function_ids = [
            lid for lid, res in self.resources.items() if res["Type"] == FUNCTION_TYPE
        ]
        plane_resources: dict[str, Any] = plane["Resources"]
        self.tables = {
            lid: res["Properties"]
            for lid, res in plane_resources.items()
            if res["Type"] == TABLE_TYPE
        }
        self.queues = {
            lid: res["Properties"]
            for lid, res in plane_resources.items()
            if res["Type"] == QUEUE_TYPE
        }
        self.work_queues = [lid for lid, props in self.queues.items() if "RedrivePolicy" in props]

    def build(self) -> dict[str, Any]:
        self._check_environment_names()
        code = self.env["PROVINCE_CODE"]
        parameters = {
            **self.plane.get("Parameters", {}),
            **DEPLOY_PARAMETERS,
        }
        parameters["Stage"] = {**parameters["Stage"], "AllowedValues": [self.stage]}
        parameters["Stage"]["Default"] = self.stage
        parameters["ProvinceCode"] = {**parameters["ProvinceCode"], "AllowedValues": [code]}
        parameters["ProvinceCode"]["Default"] = code
        resources: dict[str, Any] = dict(self.plane["Resources"])
        for function_id in self.function_ids:
            resources[function_id] = self._function(function_id)
            resources[f"{function_id}Role"] = self._role(function_id)
            resources[f"{function_id}ErrorsAlarm"] = self._errorsalarm(function_id)
        resources.update(self._log_groups())
        resources.update(self._api())
        return {
            "Description": (
                f"{self.app_name} {self.stage} (province {code}): functions packaged by chalice,"
                " data plane from infra/template.yaml (see infra/package/)."
            ),
            "Parameters": parameters,
            "Conditions": self.plane.get("Conditions", {}),
            "Resources": resources,
            "Outputs": self.plane.get("Outputs", {}),
        }

    # --- names ---------------------------------------------------------------------------

    def function_name(self, function_id: str) -> str:
        return f"{self.app_name}-${{Stage}}-{kebab(function_id)}"

    def _queue_name(self, queue_id: str) -> str:
        return sub_string(self.queues[queue_id].get("QueueName"), f"{queue_id}.QueueName")

    def _table_name(self, table_id: str) -> str:
        return sub_string(self.tables[table_id].get("TableName"), f"{table_id}.TableName")

    def _check_environment_names(self) -> None:
        expected = {
            "PLATFORM_TABLE": self._table_name("PlatformTable"),
            "JOURNAL_TABLE": self._table_name("JournalTable"),
            "SETTLEMENT_QUEUE_NAME": self._queue_name("SettlementQueue"),
            "SWEEP_QUEUE_NAME": self._queue_name("SweepQueue"),
            "LIQUIDATION_QUEUE_NAME": self._queue_name("LiquidationQueue"),
            "COMPLAINT_QUEUE_NAME": self._queue_name("ComplaintQueue"),
        }
        for variable, sub in expected.items():
            name = resolve_stage(sub, self.stage)
            if self.env.get(variable, name) != name:
                raise PackagingError(
                    f"stage {self.stage}: {variable}={self.env[variable]!r} but the template "
                    f"names it {name!r}"
                )

    # --- functions -----------------------------------------------------------------------

    def _function(self, function_id: str) -> dict[str, Any]:
        properties: dict[str, Any] = {
            "FunctionName": {"Fn::Sub": self.function_name(function_id)},
            "Role": {"Fn::GetAtt": [f"{function_id}Role", "Arn"]},
            "Environment": {
                "Variables": {
                    "AUTH_ISSUER": {"Ref": "AuthIssuer"},
                    "BANK_URL": {"Ref": "BankUrl"},
                    "SECRETS_REVISION": {"Ref": "SecretsRevision"},
                    "SETTLEMENT_QUEUE_URL": {"Ref": "SettlementQueue"},
                    "SWEEP_QUEUE_URL": {"Ref": "SweepQueue"},
                    "LIQUIDATION_QUEUE_URL": {"Ref": "LiquidationQueue"},
                    "COMPLAINT_QUEUE_URL": {"Ref": "ComplaintQueue"},
                    "NOTIFICATION_TOPIC_ARN": {"Ref": "NotificationTopic"},
                }
            },
        }
        events = {
            name: {
                "Properties": {
                    "Queue": {"Fn::GetAtt": [queue_id, "Arn"]},
                    "FunctionResponseTypes": ["ReportBatchItemFailures"],
                }
            }
            for name, queue_id in self._consumed_queues(function_id).items()
        }
        if events:
            properties["Events"] = events
        return {"DependsOn": [self._log_group_id(function_id)], "Properties": properties}

    def _consumed_queues(self, function_id: str) -> dict[str, str]:
        """Event source name -> template queue id, for the function's SQS event sources."""
        events = self.resources[function_id]["Properties"].get("Events", {})
        by_arn_suffix = {
            ":" + resolve_stage(self._queue_name(queue_id), self.stage): queue_id
            for queue_id in self.queues
        }
        consumed: dict[str, str] = {}
        for name, event in events.items():
            if event.get("Type") != "SQS":
                continue
            arn = sub_string(event["Properties"]["Queue"], f"{function_id}.{name}.Queue")
            matches = [qid for suffix, qid in by_arn_suffix.items() if arn.endswith(suffix)]
            if len(matches) != 1:
                raise PackagingError(f"{function_id}.{name}: {arn} is not a template queue")
            consumed[name] = matches[0]
        return consumed

    def _log_group_id(self, function_id: str) -> str:
        for log_id, function in self._log_group_owners().items():
            if function == function_id:
                return log_id
        raise PackagingError(f"{function_id}: no log group (set log_retention_in_days)")

    def _log_group_owners(self) -> dict[str, str]:
        """Log group id -> function id. Chalice spells the API handler's reference ApiHandler
        while naming the function APIHandler, hence the case-insensitive match."""
        by_lower = {function_id.lower(): function_id for function_id in self.function_ids}
        owners: dict[str, str] = {}
        for log_id, resource in self.resources.items():
            if resource["Type"] != LOG_GROUP_TYPE:
                continue
            name = sub_string(resource["Properties"].get("LogGroupName"), log_id)
            match = LAMBDA_LOG_GROUP.match(name)
            if not match or match.group(1).lower() not in by_lower:
                raise PackagingError(f"{log_id}: {name} is not the log group of a function")
            owners[log_id] = by_lower[match.group(1).lower()]
        return owners

    def _log_groups(self) -> dict[str, Any]:
        """Named from the stage, not by Ref, so the group exists before the function runs."""
        return {
            log_id: {
                "Properties": {
                    "LogGroupName": {"Fn::Sub": "/aws/lambda/" + self.function_name(function_id)}
                }
            }
            for log_id, function_id in self._log_group_owners().items()
        }

    def _errorsalarm(self, function_id: str) -> dict[str, Any]:
        return alarm(
            self.function_name(function_id) + "-errors",
            "The function failed (unhandled error, timeout, crash) in the last 5 minutes.",
            {
                "Namespace": "AWS/Lambda",
                "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function_id}}],
            },
            threshold=0,
        )

    def _api(self) -> dict[str, Any]:
        """Chalice turns a view's exception into a 500 (the invocation succeeds, so the
        function's Errors stay 0): the REST API's 5XXError count watches those. What API
        Gateway answers by itself carries the error envelope (infra/package/gateway.py)."""
        apis = {lid: r for lid, r in self.resources.items() if r["Type"] == API_TYPE}
        overlay: dict[str, Any] = {}
        for api_id, api in apis.items():
            name = f"{self.app_name}-${{Stage}}"
            overlay[api_id] = {"Properties": {"Name": {"Fn::Sub": name},
                                              "DefinitionBody": definition_overlay(api)}}
            overlay[f"{api_id}ServerErrorsAlarm"] = alarm(
                name + "-api-5xx",
                "The API answered more than 5 server errors (5xx) in the last 5 minutes.",
                {
                    "Namespace": "AWS/ApiGateway",
                    "MetricName": "5XXError",
                    "Dimensions": [
                        {"Name": "ApiName", "Value": {"Fn::Sub": name}},
                        {"Name": "Stage", "Value": api["Properties"]["StageName"]},
                    ],
                },
                threshold=5,
            )
        return overlay

    # --- least-privilege roles -------------------------------------------------------------

    def _role(self, function_id: str) -> dict[str, Any]:
        log_streams = "log-group:/aws/lambda/" + self.function_name(function_id) + ":log-stream:*"
        statements: list[dict[str, Any]] = [
            # The one wildcard: Lambda names each log stream at run time, so the streams of
            # the function's own log group are named by pattern. No logs:CreateLogGroup: the
            # template creates the group (and sets its retention).
            allow("WriteOwnLogs", LOG_ACTIONS, [ARN % ("logs", log_streams)]),
            allow(
                "StageTables",
                ITEM_ACTIONS,
                [ARN % ("dynamodb", "table/" + self._table_name(t)) for t in self.tables],
            ),
        ]
        indexes = [
            ARN % ("dynamodb", f"table/{self._table_name(table_id)}/index/{index['IndexName']}")
            for table_id, props in self.tables.items()
            for index in props.get("GlobalSecondaryIndexes", [])
        ]
        if indexes:
            statements.append(allow("StageIndexes", ["dynamodb:Query"], indexes))
        statements.append(
            allow("PublishWork", ["sqs:SendMessage"], self._queue_arns(self.work_queues))
        )
        statements.append(
            allow("PushNotices", ["sns:Publish"], [ARN % ("sns", self._topic_name())]))
        consumed = sorted(set(self._consumed_queues(function_id).values()))
        if consumed:
            statements.append(allow("ConsumeQueue", CONSUMER_ACTIONS, self._queue_arns(consumed)))
        return {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": f"{function_id}Policy",
                        "PolicyDocument": {"Version": "2012-10-17", "Statement": statements},
                    }
                ],
            },
        }

    def _topic_name(self) -> str:
        topic = self.plane["Resources"]["NotificationTopic"]["Properties"]
        return sub_string(topic.get("TopicName"), "NotificationTopic.TopicName")

    def _queue_arns(self, queue_ids: list[str]) -> list[dict[str, str]]:
        return [{"Fn::Sub": ARN % ("sqs", self._queue_name(q))} for q in queue_ids]
