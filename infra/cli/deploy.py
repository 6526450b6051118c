"""Deploy one stage's stack (one per province): package, lint, change set, execute.

    python -m infra.cli deploy --province 44 --dry-run
    python -m infra.cli deploy --province 44 --artifact-bucket BUCKET \\
        -p AuthIssuer=https://... -p BankUrl=https://... [-p AlarmTopicArn=...] [--yes]

A dry run packages the stage (infra/package/), lints the template with cfn-lint for the
stage's region and prints what the stack holds and which parameters and secrets it needs;
it sends nothing to AWS. Without --dry-run (AWS credentials for the stage's account needed)
the code and template go to the artifact bucket, a change set is created and shown, and it
is executed once confirmed. docs/runbook.md, "Deploying a new province".
"""

from __future__ import annotations

import hashlib
import json
import re
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from infra.cli.app import cli
from infra.package import FUNCTION_TYPE, PackagingError, package, region_of

APP_NAME = "ots-platform"
CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_AUTO_EXPAND"]
PINNED = ("Stage", "ProvinceCode")
_SECRET_REFERENCE = re.compile(r"\{\{resolve:secretsmanager:([^:}]+)")
_NO_CHANGES = ("didn't contain changes", "No updates are to be performed")

progress = Console(stderr=True)


@dataclass(frozen=True)
class Packaged:
    stage: str
    region: str
    template_path: Path
    template: dict[str, Any]

    @property
    def parameters(self) -> dict[str, Any]:
        return dict(self.template.get("Parameters", {}))

    @property
    def pinned(self) -> dict[str, str]:
        return {name: str(self.parameters[name]["Default"]) for name in PINNED}

    @property
    def stack_name(self) -> str:
        return f"{APP_NAME}-{self.stage}"

    def secrets(self) -> list[str]:
        return sorted(set(_SECRET_REFERENCE.findall(json.dumps(self.template))))


@cli.command()
def deploy(
    province: Annotated[str, typer.Option(help="two-digit province code, e.g. 44")] = "",
    stage: Annotated[str, typer.Option(help="a stage that is not a province, e.g. dev")] = "",
    dry_run: Annotated[bool, typer.Option("--dry-run", help="package and lint only")] = False,
    out: Annotated[Path | None, typer.Option(help="output folder (default: build/<stage>)")] = None,
    artifact_bucket: Annotated[
        str, typer.Option(help="S3 bucket in the stage's region for code and template")
    ] = "",
    parameter: Annotated[
        list[str] | None, typer.Option("--parameter", "-p", help="Name=Value (repeatable)")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", help="execute without asking")] = False,
) -> None:
    """Package a stage and deploy it through a CloudFormation change set."""
    name = _stage_name(province, stage)
    packaged = _package(name, out or Path("build") / name)
    _lint(packaged)
    _print_summary(packaged)
    if dry_run:
        typer.echo("Dry run: nothing was sent to AWS.")
        return
    if not artifact_bucket:
        raise typer.BadParameter("a deployment needs --artifact-bucket")
    _deploy(packaged, artifact_bucket, _parse_parameters(parameter or []), yes)


def _stage_name(province: str, stage: str) -> str:
    if bool(province) == bool(stage):
        raise typer.BadParameter("give exactly one of --province and --stage")
    if province and not re.fullmatch(r"\d{2}", province):
        raise typer.BadParameter("--province is a two-digit code, e.g. 44")
    return f"province-{province}" if province else stage


def _package(stage: str, out: Path) -> Packaged:
    try:
        region = region_of(stage)
        with progress.status(f"Packaging {stage} (chalice package + data plane)..."):
            path = package(stage, out)
    except PackagingError as error:
        raise typer.BadParameter(str(error)) from None
    template = json.loads(path.read_text(encoding="utf-8"))
    return Packaged(stage, region, path, template)


def _lint(packaged: Packaged) -> None:
    command = [
        sys.executable,
        "-c",
        "import sys; from cfnlint.runner import main; sys.exit(main())",
        "--regions",
        packaged.region,
        "--",
        str(packaged.template_path),
    ]
    with progress.status(f"cfn-lint ({packaged.region})..."):
        result = subprocess.run(command, capture_output=True, text=True, check=False)
    findings = (result.stdout + result.stderr).strip()
    if result.returncode != 0 or findings:
        typer.echo(findings, err=True)
        typer.echo(f"cfn-lint failed for {packaged.template_path}", err=True)
        raise typer.Exit(1)


def _print_summary(packaged: Packaged) -> None:
    resources: dict[str, Any] = packaged.template["Resources"]
    pinned = packaged.pinned
    typer.echo(
        f"Stack {packaged.stack_name}: stage {packaged.stage}, province "
        f"{pinned['ProvinceCode']}, region {packaged.region}"
    )
    typer.echo(f"Template: {packaged.template_path} (cfn-lint clean)")
    typer.echo(f"Resources ({len(resources)}):")
    for kind, count in sorted(Counter(r["Type"] for r in resources.values()).items()):
        typer.echo(f"  {kind:<32} {count}")
    typer.echo("Parameters:")
    for name, spec in packaged.parameters.items():
        if name in pinned:
            need = f"= {pinned[name]} (pinned to the stage)"
        elif "Default" in spec:
            need = f"optional, default {spec['Default']!r}"
        else:
            need = "REQUIRED"
        typer.echo(f"  {name:<16} {need}. {spec.get('Description', '')}")
    typer.echo("Secrets Manager secrets that must exist in the region before deploying:")
    for secret in packaged.secrets():
        typer.echo(f"  {secret}")


def _parse_parameters(pairs: list[str]) -> dict[str, str]:
    parsed: dict[str, str] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise typer.BadParameter(f"{pair!r} is not Name=Value", param_hint="--parameter")
        parsed[name] = value
    return parsed


def change_set_parameters(
    packaged: Packaged, given: dict[str, str], previous: set[str] | None
) -> list[dict[str, Any]]:
    """Parameters of the change set; ``previous`` names the live stack's, None on create."""
    declared = packaged.parameters
    unknown = set(given) - set(declared)
    if unknown:
        raise typer.BadParameter(f"the template has no parameter {sorted(unknown)}")
    values = {**given, **packaged.pinned}
    result: list[dict[str, Any]] = []
    for name, spec in declared.items():
        if name in values:
            result.append({"ParameterKey": name, "ParameterValue": values[name]})
        elif previous is not None and name in previous:
            result.append({"ParameterKey": name, "UsePreviousValue": True})
        elif "Default" not in spec:
            raise typer.BadParameter(f"the stack needs -p {name}=...", param_hint="--parameter")
    return result


def _deploy(packaged: Packaged, bucket: str, given: dict[str, str], yes: bool) -> None:
    import boto3  # only a real deployment needs the SDK and credentials
    from botocore.exceptions import ClientError, WaiterError

    session = boto3.session.Session(region_name=packaged.region)
    s3: Any = session.client("s3")
    cloudformation: Any = session.client("cloudformation")
    template_url = _upload(s3, bucket, packaged)

    try:
        stack = cloudformation.describe_stacks(StackName=packaged.stack_name)["Stacks"][0]
    except ClientError as error:
        if "does not exist" not in str(error):
            raise
        stack = None
    creating = stack is None or stack["StackStatus"] == "REVIEW_IN_PROGRESS"
    previous = None if creating else {p["ParameterKey"] for p in stack.get("Parameters", [])}
    change_set = f"deploy-{datetime.now(UTC):%Y%m%d-%H%M%S}"
    cloudformation.create_change_set(
        StackName=packaged.stack_name,
        ChangeSetName=change_set,
        ChangeSetType="CREATE" if creating else "UPDATE",
        TemplateURL=template_url,
        Parameters=change_set_parameters(packaged, given, previous),
        Capabilities=CAPABILITIES,
        Tags=[{"Key": "app", "Value": APP_NAME}, {"Key": "stage", "Value": packaged.stage}],
    )
    ids = {"StackName": packaged.stack_name, "ChangeSetName": change_set}
    try:
        with progress.status(f"Creating change set {change_set}..."):
            cloudformation.get_waiter("change_set_create_complete").wait(**ids)
    except WaiterError:
        reason = cloudformation.describe_change_set(**ids).get("StatusReason", "")
        if any(marker in reason for marker in _NO_CHANGES):
            cloudformation.delete_change_set(**ids)
            typer.echo("No changes: the stack is up to date.")
            return
        typer.echo(f"Change set failed: {reason}", err=True)
        raise typer.Exit(1) from None
    _print_changes(cloudformation.describe_change_set(**ids))
    if not yes:
        typer.confirm(f"Execute {change_set} on {packaged.stack_name}?", abort=True)
    cloudformation.execute_change_set(**ids)
    waiter = "stack_create_complete" if creating else "stack_update_complete"
    with progress.status(f"Waiting for {packaged.stack_name} ({waiter})..."):
        cloudformation.get_waiter(waiter).wait(
            StackName=packaged.stack_name, WaiterConfig={"Delay": 15, "MaxAttempts": 240}
        )
    if creating:
        cloudformation.update_termination_protection(
            StackName=packaged.stack_name, EnableTerminationProtection=True
        )
    outputs = cloudformation.describe_stacks(StackName=packaged.stack_name)["Stacks"][0]
    for output in outputs.get("Outputs", []):
        typer.echo(f"  {output['OutputKey']:<30} {output['OutputValue']}")


def _upload(s3: Any, bucket: str, packaged: Packaged) -> str:
    """Put the code and the template in the bucket; return the template's URL."""
    prefix = f"{APP_NAME}/{packaged.stage}"
    folder = packaged.template_path.parent
    code = folder / "deployment.zip"
    code_key = f"{prefix}/{_sha256(code.read_bytes())}.zip"
    with progress.status(f"Uploading s3://{bucket}/{code_key}..."):
        s3.upload_file(str(code), bucket, code_key)
    template = json.loads(json.dumps(packaged.template))
    for resource in template["Resources"].values():
        if resource["Type"] == FUNCTION_TYPE:
            resource["Properties"]["CodeUri"] = {"Bucket": bucket, "Key": code_key}
    body = json.dumps(template, indent=2).encode()
    (folder / "deployed.json").write_bytes(body)
    template_key = f"{prefix}/{_sha256(body)}.template.json"
    s3.put_object(Bucket=bucket, Key=template_key, Body=body)
    return f"{s3.meta.endpoint_url}/{bucket}/{template_key}"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _print_changes(described: dict[str, Any]) -> None:
    typer.echo(f"Change set {described['ChangeSetName']}:")
    for change in described.get("Changes", []):
        item = change["ResourceChange"]
        replacement = item.get("Replacement", "")
        typer.echo(
            f"  {item['Action']:<8} {item['LogicalResourceId']:<40} {item['ResourceType']:<32}"
            f" {'replacement: ' + replacement if replacement else ''}"
        )
