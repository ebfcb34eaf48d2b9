"""Usage errors from the command line are one line on stderr with exit code 2."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("args,needle", [
    (["train", "llama-3.1-8b", "--chip", "h100", "--chips", "8", "--recompute", "sometimes"],
     "--recompute"),
    (["frobnicate"], "frobnicate"),
    (["compare", "--chip", "h100,blah"], "blah"),
    (["train", "llama-3.1-8b", "--chip", "h100", "--chips", "8", "--tokens", "abc"], "tokens"),
    # questions nothing can satisfy exit 2 as well (issues #5-#7), naming what would work
    (["infer", "llama-3.1-8b", "--chip", "h100", "--tpot-ms", "0.01"], "best reachable: TTFT"),
    (["train", "llama-3.1-405b", "--chip", "h100", "--chips", "1"], "128 chips would fit"),
])
def test_usage_errors_are_one_line(run_cli, args, needle):
    code, out, err = run_cli(*args)
    assert code == 2 and out == "" and err.count("\n") == 1 and needle in err
    assert err.startswith("error:")


def test_version_and_bare_command(run_cli):
    import xpuplan

    code, out, err = run_cli("--version")
    assert (code, out.strip(), err) == (0, f"xpuplan {xpuplan.__version__}", "")
    code, out, err = run_cli()  # bare `xpuplan`: the help, and no empty "error:" line
    assert "compare" in out and "error" not in err
