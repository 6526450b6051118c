"""Metrics as CloudWatch Embedded Metric Format: one JSON document per line on stdout, which
Lambda's log agent turns into a metric (no API call, no extra permission). The province
stack's alarms watch them (infra/template.yaml)."""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import TextIO

log = logging.getLogger(__name__)

NAMESPACE = "OTS/Platform"


class EmbeddedMetrics:
    def __init__(self, stage: str, out: TextIO | None = None) -> None:
        self.stage = stage
        self._out = out

    def gauge(self, name: str, value: int) -> None:
        document = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [["Stage"]],
                    "Metrics": [{"Name": name, "Unit": "Count"}],
                }],
            },
            "Stage": self.stage,
            name: value,
        }
        out = self._out or sys.stdout
        out.write(json.dumps(document, separators=(",", ":")) + "\n")
        out.flush()
        log.info("metric %s = %d", name, value)
