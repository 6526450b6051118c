"""Package one stage as a single CloudFormation (SAM) template: the functions and the data plane.

    template = package("province-44", Path("build/province-44"))   # -> build/.../sam.json

`chalice package --stage <stage>` writes the functions (sam.json, deployment.zip). One overlay,
generated here from infra/template.yaml and that output, is then deep-merged onto it with the
semantics of `chalice package --merge-template` (mappings merge key by key, anything else is
replaced) and kept as merge.json next to it for review. The overlay is generated *after*
chalice runs because it names the logical ids chalice assigns (functions, event sources, log
groups); reading them from the output means they are never guessed. It adds:

- the data plane, defined once in infra/template.yaml (tables, queues, queue alarms), with the
  Stage and ProvinceCode parameters pinned to the packaged stage;
- per function: a deterministic name `<app>-<stage>-<name>`, its own IAM role naming only the
  stage's tables, indexes, queue and its own log group, an Errors alarm, and the deployment
  parameters in its environment (AUTH_ISSUER, BANK_URL, SECRETS_REVISION, the queue URL);
- on queue event sources: the queue by `Fn::GetAtt` and `ReportBatchItemFailures`;
- a name for the REST API, an alarm on its server errors (5xx), and its own answers (unknown
  routes, unserved methods, throttling) in the error envelope (infra/package/gateway.py).

Invariants checked before the template is written (PackagingError otherwise): the stage's
environment names the template's tables and queue, every function runs under a role of the
template, every consumed queue's visibility timeout is >= 6 x its consumer's timeout, and no
ARN carries a hard-coded partition (China regions use aws-cn).
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from infra.package.errors import PackagingError
from infra.package.overlay import Overlay
from infra.package.template import FUNCTION_TYPE, check, deep_merge
from infra.resources import DEFAULT_TEMPLATE, load_template

__all__ = [
    "CONFIG",
    "FUNCTION_TYPE",
    "STAGE_REGIONS",
    "PackagingError",
    "deep_merge",
    "package",
    "region_of",
]

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / ".chalice" / "config.json"
CHALICE_CACHE = ROOT / ".chalice" / "deployments"
TEMPLATE_NAME = "sam.json"
OVERLAY_NAME = "merge.json"

# The AWS region of each deployable stage (China regions: the aws-cn partition).
STAGE_REGIONS = {
    "dev": "cn-north-1",
    "province-11": "cn-north-1",
    "province-31": "cn-northwest-1",
    "province-44": "cn-northwest-1",
}


def region_of(stage: str) -> str:
    if stage not in STAGE_REGIONS:
        raise PackagingError(f"no region for stage {stage!r}: add it to STAGE_REGIONS")
    return STAGE_REGIONS[stage]


def package(stage: str, out_dir: Path) -> Path:
    """Write the stage's deployable template into ``out_dir`` and return its path."""
    config = json.loads(CONFIG.read_text(encoding="utf-8"))
    env = _stage_environment(config, stage)
    out_dir.mkdir(parents=True, exist_ok=True)
    with _chalice_cache_lock():
        _run_chalice(stage, out_dir)
    template_path = out_dir / TEMPLATE_NAME
    functions = json.loads(template_path.read_text(encoding="utf-8"))
    plane = load_template(DEFAULT_TEMPLATE)
    overlay = Overlay(stage, config["app_name"], env, plane, functions).build()
    (out_dir / OVERLAY_NAME).write_text(json.dumps(overlay, indent=2) + "\n", encoding="utf-8")
    merged = deep_merge(overlay, functions)
    check(merged, stage)
    template_path.write_text(json.dumps(merged, indent=2) + "\n", encoding="utf-8")
    return template_path


def _stage_environment(config: dict[str, Any], stage: str) -> dict[str, str]:
    stages = config.get("stages", {})
    if stage not in stages:
        raise PackagingError(f"{CONFIG}: no stage {stage!r}")
    region_of(stage)
    env: dict[str, str] = {
        **config.get("environment_variables", {}),
        **stages[stage].get("environment_variables", {}),
    }
    if env.get("STAGE") != stage or not re.fullmatch(r"\d{2}", env.get("PROVINCE_CODE", "")):
        raise PackagingError(f"stage {stage!r}: STAGE must be the stage, PROVINCE_CODE 2 digits")
    return env


@contextmanager
def _chalice_cache_lock() -> Iterator[None]:
    """One `chalice package` at a time per project: each rewrites the cached dependency zip
    in .chalice/deployments through the same temporary file."""
    CHALICE_CACHE.mkdir(parents=True, exist_ok=True)
    with (CHALICE_CACHE / ".package.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _run_chalice(stage: str, out_dir: Path) -> None:
    # Chalice reads the region only to name service principals; nothing calls AWS.
    env = {**os.environ, "AWS_DEFAULT_REGION": region_of(stage), "AWS_REGION": region_of(stage)}
    command = [
        sys.executable,
        "-c",
        "import sys; from chalice.cli import main; sys.exit(main())",
        "--project-dir",
        str(ROOT),
        "package",
        "--stage",
        stage,
        str(out_dir),
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise PackagingError(f"chalice package --stage {stage} failed:\n{result.stderr}")
