"""Run the CLI in-process on one fuzz case and check every promise it makes.

Promises (issue #12): exit code 0 or 2 (1 only when the solver fails); on error, stdout empty
and stderr exactly one line `error: ...` of at most max_message_chars; on success, nothing on
stderr and, with --json, one object that a strict RFC 8259 parser accepts; every case ends
within CASE_TIMEOUT_S (a SIGALRM raises a BaseException the CLI cannot swallow).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal

from hypothesis import HealthCheck, settings

from xpuplan.cli import main
from xpuplan.limits import file_limit

# Hypothesis profiles: `ci` (bounded and derandomized, the default) and `long` (random, for
# scripts/fuzz.py); XPUPLAN_FUZZ_PROFILE picks one, XPUPLAN_FUZZ_EXAMPLES sets the count.
_COMMON = {"deadline": None, "print_blob": True,
           "suppress_health_check": [HealthCheck.too_slow, HealthCheck.data_too_large,
                                     HealthCheck.function_scoped_fixture]}
settings.register_profile("fuzz-ci", max_examples=int(os.environ.get(
    "XPUPLAN_FUZZ_EXAMPLES", "50")), derandomize=True, **_COMMON)
settings.register_profile("fuzz-long", max_examples=int(os.environ.get(
    "XPUPLAN_FUZZ_EXAMPLES", "400")), derandomize=False, **_COMMON)
PROFILE_NAME = os.environ.get("XPUPLAN_FUZZ_PROFILE", "ci")
PROFILE = settings.get_profile("fuzz-" + PROFILE_NAME)
CHEAP = PROFILE_NAME == "ci"  # the CI fuzzes only scenarios that run in well under a second
CASE_TIMEOUT_S = float(os.environ.get("XPUPLAN_FUZZ_CASE_S", "60"))
MAX_ERR_CHARS = len("error: ") + file_limit("max_message_chars") + 1
COUNT = {"cases": 0, "errors": 0}


class Hang(BaseException):
    """A case ran past CASE_TIMEOUT_S."""


def _alarm(signum, frame):
    raise Hang(f"case ran past {CASE_TIMEOUT_S} s")


def run_cli(argv: list[str], cwd: str) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `xpuplan ARGV` run in `cwd`."""
    COUNT["cases"] += 1
    out, err = io.StringIO(), io.StringIO()
    offline = os.environ.get("HF_HUB_OFFLINE")
    os.environ["HF_HUB_OFFLINE"] = "1"  # a Hub-like model id never reaches the network
    previous = signal.signal(signal.SIGALRM, _alarm)
    signal.setitimer(signal.ITIMER_REAL, CASE_TIMEOUT_S)
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err), \
                contextlib.chdir(cwd):
            try:
                main(list(argv))
                code = 0
            except SystemExit as exc:
                code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 2)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if offline is None:
            os.environ.pop("HF_HUB_OFFLINE", None)
        else:
            os.environ["HF_HUB_OFFLINE"] = offline
    return code, out.getvalue(), err.getvalue()


def strict_loads(text: str):
    """json.loads that refuses NaN, Infinity and -Infinity (RFC 8259)."""
    def refuse(constant):
        raise ValueError(f"non-standard JSON constant {constant}")

    return json.loads(text, parse_constant=refuse)


def check_case(argv: list[str], cwd: str) -> tuple[int, str, str]:
    """Run one case and assert the promises (module doc); returns what it printed."""
    code, out, err = run_cli(argv, cwd)
    shown = " ".join(a if len(a) < 60 else a[:57] + "..." for a in argv)
    assert code in (0, 1, 2), f"exit {code} for `{shown}`: {err[:500]}"
    if code == 1:
        assert "solver" in err, f"exit 1 without a solver failure for `{shown}`: {err[:300]}"
    if code != 0:
        COUNT["errors"] += 1
        assert out == "", f"stdout on error for `{shown}`: {out[:200]}"
        assert err.startswith("error: ") and err.count("\n") == 1 and err.endswith("\n"), (
            f"not one error line for `{shown}`: {err[:500]!r}")
        assert len(err) <= MAX_ERR_CHARS, f"{len(err)}-char error for `{shown}`: {err[:200]}"
        assert "internal error" not in err, f"internal error for `{shown}`: {err}"
    else:
        assert err == "", f"stderr on success for `{shown}`: {err[:300]!r}"
        if "--json" in argv:
            assert out.count("\n") == 1, f"--json output is not one line for `{shown}`"
            assert isinstance(strict_loads(out), dict), f"not a JSON object for `{shown}`"
    return code, out, err
