"""Usage errors from the command line are one line on stderr with exit code 2."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize("args,needle", [
    (["train", "llama-3.1-8b", "--chip", "h100", "--chips", "8", "--recompute", "sometimes"],
     "recompute = 'sometimes': allowed: none, selective, full, or the share"),
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


@pytest.mark.parametrize("args", [["chips"], ["chips", "--json"]])
def test_ctrl_c_prints_one_line_and_exits_130(run_cli, monkeypatch, args):
    # typer turns KeyboardInterrupt into a returned 130 that main() used to drop (exit 0)
    import xpuplan.cli as cli

    def interrupted(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(cli.api, "chips", interrupted)
    monkeypatch.setattr(cli.api, "chips_json", interrupted)
    code, out, err = run_cli(*args)
    assert (code, out, err) == (130, "", "interrupted\n")


def test_ctrl_c_in_a_real_process_exits_130(tmp_path):
    # SIGINT to a running `python -m xpuplan`: the handler, not typer, decides the exit code
    import os
    import signal
    import subprocess
    import sys
    import time

    script = tmp_path / "slow.py"
    script.write_text("import time, xpuplan.cli as cli, xpuplan.api as api\n"
                      "def slow(*a, **k):\n    print('ready', flush=True)\n    time.sleep(60)\n"
                      "api.chips = slow\ncli.main(['chips'])\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    proc = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout.readline() == "ready\n"
    time.sleep(0.1)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert (proc.returncode, err) == (130, "interrupted\n")


def test_engine_help_names_every_catalog_engine(run_cli):
    # the --engine help is built from api.engines(), so a new engine record shows up in it
    import re

    from xpuplan import api

    code, out, _ = run_cli("infer", "--help")
    text = re.sub(r"[\s│]+", " ", out)
    for vendor, entry in api.engines().items():
        listed = " | ".join(entry["engines"])
        assert code == 0 and f"{listed} on {vendor} (default {entry['default']})" in text


@pytest.mark.parametrize("args,needle", [
    (["--scheduler-steps", "0"], "scheduler_steps = 0: must be an integer from 1 to 1024"),
    (["--max-running-batch", "0"], "max_running_batch = 0: must be an integer from 1"),
    (["--compiled-batch", "-3"], "compiled_batch = -3: must be an integer from 1"),
    (["--context-buckets", "2048,x"], "--context-buckets = '2048,x': comma-separated token"),
    (["--context-buckets", "0,2048"], "--context-buckets = 0: must be an integer from 1"),
    (["--compiled-seq-len", "512"], "compiled_seq_len = 512: every prompt pads to it, so it "
                                    "must be at least input_len = 1024"),
    (["--compiled-seq-len", "4096", "--static-kv-tokens", "2048"],
     "static_kv_tokens = 2048: give it or compiled_seq_len = 4096"),
])
def test_serving_run_options_out_of_bounds(run_cli, args, needle):
    code, out, err = run_cli("infer", "llama-3.1-8b", "--chip", "h100", *args)
    assert (code, out, err.count("\n")) == (2, "", 1) and err.startswith("error:"), err
    assert needle in err, err


@pytest.mark.parametrize("args,needle", [
    (["--capacity-factor", "0"], "moe_capacity_factor = 0.0: must be a finite number from 0.01"),
    (["--remat-policy", "sometimes"], "remat_policy = 'sometimes': a MaxText preset"),
    (["--remat-policy", "full", "--recompute", "full"],
     "remat_policy = 'full': give it or recompute = 'full', not both"),
    (["--state-format", "fp32"], "state_format = 'fp32': megatron, megatron-bf16-grads or "
                                 "maxtext-W-G-M, each fp32 or bf16"),
    (["--cpu-offload-layers", "-2"], "cpu_offload_layers = -2: must be an integer from 0"),
    (["--cpu-offload-layers", "40"], "cpu_offload_layers = 40: at most 31: llama-3.1-8b has "
                                     "32 layers"),
    (["--saved-inputs", "int8"], "saved_input_format = 'int8': allowed: bf16, fp8, mxfp8"),
    (["--saved-inputs", "mxfp8"], "saved_input_format = 'mxfp8': quantized GEMM inputs need "
                                  "precision fp8, not bf16"),
])
def test_training_run_options_out_of_bounds(run_cli, args, needle):
    code, out, err = run_cli("train", "llama-3.1-8b", "--chip", "h100", "--chips", "8", *args)
    assert (code, out, err.count("\n")) == (2, "", 1) and err.startswith("error:"), err
    assert needle in err, err
