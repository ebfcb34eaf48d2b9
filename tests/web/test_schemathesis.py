"""Schemathesis against /openapi.json: no generated request gets a 5xx answer."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error

from xpuplan.web import create_app

EXAMPLES_PER_OPERATION = 10
# Searches grow with the chip count and the chip list; generated bodies are capped to these so
# the run stays under a minute on 2 cores (test_api.py covers the bounds themselves).
CHIPS_CAP = 4096
COMPARE_CHIPS = "h100,trn2"

# /api/validate takes no input (test_api.py checks it against the CLI): nothing to generate
schema = schemathesis.openapi.from_asgi("/openapi.json", create_app()).exclude(
    path="/api/validate")


@schema.parametrize()
@settings(max_examples=EXAMPLES_PER_OPERATION, deadline=None, derandomize=True,
          suppress_health_check=list(HealthCheck))
def test_no_request_gets_a_server_error(case):
    if isinstance(case.body, dict):
        for key in ("n_chips", "chips"):  # `chips`: the deprecated alias
            if isinstance(case.body.get(key), int) and case.body[key] > CHIPS_CAP:
                case.body[key] = CHIPS_CAP
        if case.path == "/api/compare" and "chip" not in case.body:
            case.body["chip"] = COMPARE_CHIPS
    case.call_and_validate(checks=[not_a_server_error], timeout=60)
