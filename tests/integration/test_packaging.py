"""The packaged stack of each sample province: lint-clean, partition-free, least privilege.

Each province is packaged once per module (`chalice package` takes a few seconds); nothing
here talks to AWS: the deploy command is exercised with --dry-run only.
"""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from infra.cli import cli
from infra.cli.deploy import Packaged, change_set_parameters
from infra.package import CONFIG, STAGE_REGIONS, deep_merge, package, region_of

PROVINCES = ("11", "31", "44")
ACCOUNT = "123456789012"
VISIBILITY_FACTOR = 6
SECRET_VARIABLES = ("BANK_WEBHOOK_SECRET", "AUTH_JWKS_JSON", "AUTH_HS256_SECRET")
LOG_STREAM_ACTIONS = {"logs:CreateLogStream", "logs:PutLogEvents"}
# GatewayResponse.responseType's valid values (API Gateway API reference).
GATEWAY_RESPONSE_TYPES = {
    "DEFAULT_4XX", "DEFAULT_5XX", "RESOURCE_NOT_FOUND", "UNAUTHORIZED", "INVALID_API_KEY",
    "ACCESS_DENIED", "AUTHORIZER_FAILURE", "AUTHORIZER_CONFIGURATION_ERROR", "INVALID_SIGNATURE",
    "EXPIRED_TOKEN", "MISSING_AUTHENTICATION_TOKEN", "INTEGRATION_FAILURE", "INTEGRATION_TIMEOUT",
    "API_CONFIGURATION_ERROR", "UNSUPPORTED_MEDIA_TYPE", "BAD_REQUEST_PARAMETERS",
    "BAD_REQUEST_BODY", "REQUEST_TOO_LARGE", "THROTTLED", "QUOTA_EXCEEDED", "WAF_FILTERED",
}
SNAKE_CASE = re.compile(r"^[a-z][a-z0-9]*(_[a-z0-9]+)*$")


@pytest.fixture(scope="module")
def packaged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    out = tmp_path_factory.mktemp("packaged")
    return {code: package(f"province-{code}", out / code) for code in PROVINCES}


def _template(packaged: dict[str, Path], code: str) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(packaged[code].read_text(encoding="utf-8"))
    return document


def _of_type(template: dict[str, Any], kind: str) -> dict[str, Any]:
    return {lid: r for lid, r in template["Resources"].items() if r["Type"] == kind}


def _resolve(value: Any, stage: str, region: str) -> str:
    """A name or ARN as CloudFormation would resolve it in the province's account."""
    if isinstance(value, str):
        return value
    assert isinstance(value, dict) and list(value) == ["Fn::Sub"], value
    text = value["Fn::Sub"]
    assert isinstance(text, str), value
    for name, replacement in {
        "Stage": stage,
        "AWS::Partition": "aws-cn",
        "AWS::Region": region,
        "AWS::AccountId": ACCOUNT,
    }.items():
        text = text.replace("${" + name + "}", replacement)
    assert "${" not in text, f"unresolved variable in {value}"
    return text


NOT_SHIPPED = {"sandbox", "tests", "infra", "benchmarks", "docs", "moto"}
"""Top-level packages of the repository (and the test engine) that never ship."""


def test_the_bundle_holds_production_code_only(packaged: dict[str, Path]) -> None:
    """Only app.py and chalicelib/ of ours ship (the sandbox bank and every other double
    live outside chalicelib/), and nothing shipped imports what does not ship."""
    for code, template in packaged.items():
        with zipfile.ZipFile(template.parent / "deployment.zip") as bundle:
            names = bundle.namelist()
            ours = [n for n in names if n == "app.py" or n.startswith("chalicelib/")]
            assert {"app.py", "chalicelib/bootstrap.py"} <= set(ours), code
            assert not {n.split("/")[0] for n in names} & NOT_SHIPPED, code
            assert [n for n in ours if "sandbox" in n] == [], code
            for name in (n for n in ours if n.endswith(".py")):
                roots = {node.module.split(".")[0] if isinstance(node, ast.ImportFrom)
                         and node.module else alias.name.split(".")[0]
                         for node in ast.walk(ast.parse(bundle.read(name)))
                         if isinstance(node, ast.Import | ast.ImportFrom)
                         for alias in node.names}
                assert not roots & NOT_SHIPPED, f"{code}: {name} imports {roots & NOT_SHIPPED}"


def test_cfn_lint_is_clean_for_each_province_in_its_region(packaged: dict[str, Path]) -> None:
    runs = {
        code: subprocess.Popen(
            [
                sys.executable,
                "-c",
                "import sys; from cfnlint.runner import main; sys.exit(main())",
                "--regions",
                region_of(f"province-{code}"),
                "--",
                str(path),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for code, path in packaged.items()
    }
    for code, run in runs.items():
        output, _ = run.communicate(timeout=300)
        assert (run.returncode, output) == (0, ""), f"province {code}:\n{output}"


@pytest.mark.parametrize("code", PROVINCES)
def test_no_arn_hard_codes_the_commercial_partition(packaged: dict[str, Path], code: str) -> None:
    # Built from parts so a repository-wide grep for the literal does not match this test.
    assert "arn:" + "aws:" not in packaged[code].read_text(encoding="utf-8")


@pytest.mark.parametrize("code", PROVINCES)
def test_every_queue_has_a_dead_letter_queue_and_outlives_six_consumer_timeouts(
    packaged: dict[str, Path], code: str
) -> None:
    template = _template(packaged, code)
    queues = _of_type(template, "AWS::SQS::Queue")
    dead_letter_ids = {
        props["RedrivePolicy"]["deadLetterTargetArn"]["Fn::GetAtt"][0]
        for props in (queue["Properties"] for queue in queues.values())
        if "RedrivePolicy" in props
    }
    assert dead_letter_ids and dead_letter_ids <= set(queues)
    for logical_id, queue in queues.items():
        if logical_id not in dead_letter_ids:
            assert "RedrivePolicy" in queue["Properties"], f"{logical_id} has no dead letters"

    consumers = 0
    for function_id, function in _of_type(template, "AWS::Serverless::Function").items():
        for event in function["Properties"].get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            consumers += 1
            props = event["Properties"]
            assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"], function_id
            assert props["BatchSize"] <= 10
            queue_id = props["Queue"]["Fn::GetAtt"][0]
            assert queue_id in queues and queue_id not in dead_letter_ids
            visibility = queues[queue_id]["Properties"]["VisibilityTimeout"]
            assert visibility >= VISIBILITY_FACTOR * function["Properties"]["Timeout"]
            if queue_id == "LiquidationQueue":  # a liquidation's pace at the bank, capped
                assert function["Properties"]["ReservedConcurrentExecutions"] == 10
    assert consumers == 4, "the settlement, sweep, liquidation and complaint consumers read queues"


@pytest.mark.parametrize("code", PROVINCES)
def test_tables_keep_their_data(packaged: dict[str, Path], code: str) -> None:
    tables = _of_type(_template(packaged, code), "AWS::DynamoDB::Table")
    assert len(tables) == 2
    for table in tables.values():
        props = table["Properties"]
        assert table["DeletionPolicy"] == "Retain"
        assert props["DeletionProtectionEnabled"] is True
        assert props["PointInTimeRecoverySpecification"] == {"PointInTimeRecoveryEnabled": True}
        assert props["SSESpecification"] == {"SSEEnabled": True}


@pytest.mark.parametrize("code", PROVINCES)
def test_alarms_watch_dead_letters_queue_age_every_function_and_the_api(
    packaged: dict[str, Path], code: str
) -> None:
    template = _template(packaged, code)
    watched = {
        (
            alarm["Properties"]["MetricName"],
            json.dumps(alarm["Properties"]["Dimensions"][0]["Value"]),
        )
        for alarm in _of_type(template, "AWS::CloudWatch::Alarm").values()
    }
    for name in ("Settlement", "Sweep", "Liquidation", "Complaint"):
        dlq = json.dumps({"Fn::GetAtt": [f"{name}DeadLetterQueue", "QueueName"]})
        queue = json.dumps({"Fn::GetAtt": [f"{name}Queue", "QueueName"]})
        assert ("ApproximateNumberOfMessagesVisible", dlq) in watched
        assert ("ApproximateAgeOfOldestMessage", queue) in watched
    assert ("ConsumptionsNeedingReview", json.dumps({"Ref": "Stage"})) in watched
    for function_id in _of_type(template, "AWS::Serverless::Function"):
        assert ("Errors", json.dumps({"Ref": function_id})) in watched
    api_name = template["Resources"]["RestAPI"]["Properties"]["Name"]
    assert ("5XXError", json.dumps(api_name)) in watched


@pytest.mark.parametrize("code", PROVINCES)
def test_iam_policies_name_only_the_stage_s_resources(packaged: dict[str, Path], code: str) -> None:
    stage, template = f"province-{code}", _template(packaged, code)
    region = region_of(stage)
    resources = template["Resources"]
    assert not _of_type(template, "AWS::IAM::Policy")
    assert not _of_type(template, "AWS::IAM::ManagedPolicy")

    arn = f"arn:aws-cn:%s:{region}:{ACCOUNT}:%s"
    tables = {
        _resolve(t["Properties"]["TableName"], stage, region): t["Properties"]
        for t in _of_type(template, "AWS::DynamoDB::Table").values()
    }
    allowed = {arn % ("dynamodb", f"table/{table}") for table in tables}
    allowed |= {
        arn % ("dynamodb", f"table/{table}/index/{index['IndexName']}")
        for table, props in tables.items()
        for index in props.get("GlobalSecondaryIndexes", [])
    }
    allowed |= {
        arn % ("sqs", _resolve(q["Properties"]["QueueName"], stage, region))
        for q in _of_type(template, "AWS::SQS::Queue").values()
    }
    allowed |= {
        arn % ("sns", _resolve(t["Properties"]["TopicName"], stage, region))
        for t in _of_type(template, "AWS::SNS::Topic").values()
    }
    assert all(stage in name for name in allowed)

    functions = _of_type(template, "AWS::Serverless::Function")
    assert len(functions) == 9  # the API, four queue workers, four schedules
    for function_id, function in functions.items():
        props = function["Properties"]
        assert "Policies" not in props  # SAM would add a role of its own
        role = resources[props["Role"]["Fn::GetAtt"][0]]
        assert role["Type"] == "AWS::IAM::Role"
        assert "ManagedPolicyArns" not in role["Properties"]
        trust = role["Properties"]["AssumeRolePolicyDocument"]["Statement"]
        assert [s["Principal"] for s in trust] == [{"Service": "lambda.amazonaws.com"}]
        function_name = _resolve(props["FunctionName"], stage, region)
        assert function_name.startswith(f"ots-platform-{stage}-")
        # The one wildcard AWS requires: Lambda names the log streams of the function's own
        # log group at run time, so they can only be named by pattern.
        own_log_streams = arn % ("logs", f"log-group:/aws/lambda/{function_name}:log-stream:*")

        statements = [
            statement
            for policy in role["Properties"]["Policies"]
            for statement in policy["PolicyDocument"]["Statement"]
        ]
        assert statements
        for statement in statements:
            assert statement["Effect"] == "Allow"
            actions = statement["Action"]
            assert isinstance(actions, list) and actions
            for action in actions:
                assert re.fullmatch(r"[a-z0-9-]+:[A-Za-z]+", action), f"{function_id}: {action}"
            names = [_resolve(r, stage, region) for r in statement["Resource"]]
            for name in names:
                if "*" in name:
                    assert set(actions) <= LOG_STREAM_ACTIONS, f"{function_id}: {statement}"
                    assert name == own_log_streams
                else:
                    assert name in allowed, f"{function_id}: {name} is not the stage's"


def _definition(packaged: dict[str, Path], code: str) -> dict[str, Any]:
    api = _of_type(_template(packaged, code), "AWS::Serverless::Api")["RestAPI"]
    definition: dict[str, Any] = api["Properties"]["DefinitionBody"]
    return definition


@pytest.mark.parametrize("code", PROVINCES)
def test_what_api_gateway_answers_itself_carries_the_error_envelope(
    packaged: dict[str, Path], code: str
) -> None:
    responses = _definition(packaged, code)["x-amazon-apigateway-gateway-responses"]
    assert set(responses) <= GATEWAY_RESPONSE_TYPES
    assert {"MISSING_AUTHENTICATION_TOKEN", "DEFAULT_4XX", "DEFAULT_5XX"} <= set(responses)
    for kind, response in responses.items():
        body = json.loads(response["responseTemplates"]["application/json"])
        assert list(body) == ["error"], kind
        assert set(body["error"]) == {"code", "message", "details"}, kind
        assert SNAKE_CASE.match(body["error"]["code"]), kind
        assert re.search(r"[\u4e00-\u9fff]", body["error"]["message"]), f"{kind}: zh-CN text"
        assert body["error"]["details"] == {}, kind
        if kind.startswith("DEFAULT_"):  # keeps the status of whatever it stands for
            assert "statusCode" not in response, kind
        else:
            assert re.fullmatch(r"4\d\d", response["statusCode"]), kind
    missing = responses["MISSING_AUTHENTICATION_TOKEN"]
    assert missing["statusCode"] == "404"
    route_not_found = json.loads(missing["responseTemplates"]["application/json"])
    assert route_not_found["error"]["code"] == "route_not_found"


@pytest.mark.parametrize("code", PROVINCES)
def test_every_path_sends_any_other_method_to_the_function_for_its_405(
    packaged: dict[str, Path], code: str
) -> None:
    integration = "x-amazon-apigateway-integration"
    for path, operations in _definition(packaged, code)["paths"].items():
        catch_all = operations["x-amazon-apigateway-any-method"]
        own = [op for method, op in operations.items() if not method.startswith("x-")]
        assert own, path
        for operation in own:
            assert catch_all[integration] == operation[integration], path
        assert catch_all[integration]["type"] == "aws_proxy", path


def test_config_stages_hold_secret_references_not_secrets() -> None:
    config = json.loads(CONFIG.read_text(encoding="utf-8"))
    for stage in STAGE_REGIONS:
        env = config["stages"][stage]["environment_variables"]
        assert env["STAGE"] == stage
        present = [name for name in SECRET_VARIABLES if name in env]
        assert "BANK_WEBHOOK_SECRET" in present
        for name in present:
            assert re.fullmatch(
                rf"\{{\{{resolve:secretsmanager:ots-platform/{stage}/[a-z0-9-]+\}}\}}", env[name]
            ), f"{stage}: {name} must be a Secrets Manager reference"
    assert {"local", "test"} <= set(config["stages"])


def test_the_merge_replaces_intrinsic_functions_instead_of_mixing_them() -> None:
    base = {"Queue": {"Fn::Sub": "arn:..."}, "BatchSize": 10, "Env": {"A": "1"}}
    overlay = {"Queue": {"Fn::GetAtt": ["Q", "Arn"]}, "Env": {"B": {"Ref": "P"}}}
    assert deep_merge(overlay, base) == {
        "Queue": {"Fn::GetAtt": ["Q", "Arn"]},
        "BatchSize": 10,
        "Env": {"A": "1", "B": {"Ref": "P"}},
    }


def test_change_set_parameters_pin_the_stage_and_reuse_previous_values(
    packaged: dict[str, Path],
) -> None:
    template = _template(packaged, "31")
    stack = Packaged("province-31", region_of("province-31"), packaged["31"], template)
    given = {"AuthIssuer": "https://id.example", "BankUrl": "https://bank.example"}

    created = {p["ParameterKey"]: p for p in change_set_parameters(stack, given, None)}
    assert created["Stage"]["ParameterValue"] == "province-31"
    assert created["ProvinceCode"]["ParameterValue"] == "31"
    assert created["AuthIssuer"]["ParameterValue"] == "https://id.example"
    assert "AlarmTopicArn" not in created  # its default applies

    updated = {p["ParameterKey"]: p for p in change_set_parameters(stack, {}, set(created))}
    assert updated["AuthIssuer"] == {"ParameterKey": "AuthIssuer", "UsePreviousValue": True}

    with pytest.raises(Exception, match="AuthIssuer"):
        change_set_parameters(stack, {"BankUrl": "https://bank.example"}, None)
    with pytest.raises(Exception, match="Nope"):
        change_set_parameters(stack, {**given, "Nope": "x"}, None)


def test_deploy_dry_run_packages_lints_and_summarises_offline(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["deploy", "--province", "44", "--dry-run", "--out", str(tmp_path / "p44")]
    )
    assert result.exit_code == 0, result.output
    assert "Stack ots-platform-province-44: stage province-44, province 44" in result.output
    assert "region cn-northwest-1" in result.output
    assert "(cfn-lint clean)" in result.output
    assert re.search(r"AWS::Serverless::Function\s+9", result.output)
    assert re.search(r"AuthIssuer\s+REQUIRED", result.output)
    assert "ots-platform/province-44/bank-webhook-secret" in result.output
    assert "Dry run: nothing was sent to AWS." in result.output
    assert (tmp_path / "p44" / "sam.json").exists()
    assert (tmp_path / "p44" / "merge.json").exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--province", "4"], "two-digit"),
        (["--province", "99"], "province-99"),
        (["--province", "44", "--stage", "dev"], "exactly one"),
    ],
)
def test_deploy_refuses_what_is_not_a_stage(arguments: list[str], message: str) -> None:
    result = CliRunner().invoke(cli, ["deploy", *arguments, "--dry-run"])
    assert result.exit_code != 0
    assert message in result.output
