"""CLI parity: each validation row as the `xpuplan train|infer --json` command a user with the
published information would type, against `xpuplan validate`'s in-sample prediction of it.

    PYTHONPATH=src python scripts/cli_parity.py [--baseline VAL.json] [--out REPORT.json]
                                                [--tol 0.02] [--id ROW_ID ...] [--quiet]

`--baseline` reads a saved `xpuplan validate --json` (else the report is computed here, about
1.5 min). For every row of src/xpuplan/data/validation/{train,infer}_measurements.csv that
validate predicts, the command is built from the CSV row alone: the model by its built-in name
(else a config.json of the row's published shape, written to a temporary folder), the chip,
the chips, the published layout in chip units, the batch, the lengths, the precisions and the
engine named by the framework column. A serving row is run as the benchmark ran: offline at
no fixed batch (the CLI searches the largest), fixed-batch and single-stream at their batch,
MLPerf Server/Interactive under the benchmark's p99 TTFT/TPOT limits as --ttft-ms/--tpot-ms.
Run knobs the row publishes (engine batch cap, eager launches, scheduler steps, async
scheduling, context buckets, a static-shape export, dense attention, MoE capacity factor,
MaxText remat policy, model-state format, CPU-offloaded layers, quantized saved GEMM inputs)
are passed when the CLI has an option for them, else named as missing.

The command runs in-process through `xpuplan.cli.main` (what the `xpuplan` entry point runs)
and the row's metric is read from its JSON: training tokens_per_s_per_chip; serving
output_tokens_per_s_per_chip (× (I+O)/O for a total-tokens row), tpot_s (tpot_decode_s for a
single stream, as validate), ttft_s. A training row's memory_per_chip_bytes and fits are
compared too, with validate's evaluation of the row's published layout (train.evaluate on
calibrate.train_set's row, as scripts/memory_check.py). Printed: the counts of rows checked,
refused (with the error line), off by more than --tol relative, and training rows whose
memory is off by more than --tol or whose fits differs, each with the command and the knobs
it lacks; --out writes them all as JSON. Exit 0 always (a report, not a test:
tests/test_cli_parity.py pins a handful of rows).
"""

from __future__ import annotations

import argparse
import contextlib
import io
import json
import math
import sys
import tempfile
from pathlib import Path

import pandas as pd
import typer

from xpuplan import api, cli
from xpuplan.calibrate.infer_set import (
    _context_buckets,
    _skips,
    _static_caches,
    mlperf_latency_limits,
)
from xpuplan.calibrate.train_set import (
    BUILTIN_NAMES,
    GPT2_BPE_VOCAB,
    PRECISION,
    RECOMPUTE,
    train_rows,
)
from xpuplan.catalog.data import builtin_file
from xpuplan.catalog.model_loader import resolve_builtin
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.hardware.stacks import engine_for_framework
from xpuplan.train.evaluate import evaluate


def _v(row: dict, key: str):
    """The row's value, None where the column is absent or empty."""
    x = row.get(key)
    return None if x is None or (isinstance(x, float) and math.isnan(x)) or x == "" else x


def _int(row: dict, key: str) -> int | None:
    x = _v(row, key)
    return None if x is None else int(x)


def _options(command: str) -> set[str]:
    """The option names (--foo) the CLI's `command` accepts today."""
    click_cmd = typer.main.get_command(cli.app).commands[command]  # type: ignore[attr-defined]
    return {o for p in click_cmd.params for o in (*p.opts, *p.secondary_opts)}


def _config_json(row: dict, folder: Path) -> str:
    """A config.json of the row's published shape (what a user without a built-in writes):
    llama for a gated MLP, gpt_neox for a plain one; untied embeddings, GPT-2's vocabulary
    where the row gives none, as validate's row model (calibrate.train_set._model)."""
    layers, hidden, ffn, heads = (int(row[k]) for k in ("n_layers", "hidden", "ffn_hidden",
                                                        "n_heads"))
    gated = str(row.get("gated_mlp")).lower() in ("true", "1", "1.0")
    config = {"model_type": "llama" if gated else "gpt_neox", "hidden_size": hidden,
              "intermediate_size": ffn, "num_hidden_layers": layers,
              "num_attention_heads": heads,
              "num_key_value_heads": int(_v(row, "n_kv_heads") or heads),
              "vocab_size": int(_v(row, "vocab") or GPT2_BPE_VOCAB),
              "tie_word_embeddings": False, "max_position_embeddings": 1 << 20}
    path = folder / f"{row['id']}.json"
    path.write_text(json.dumps(config))
    return str(path)


def train_command(row: dict, have: set[str], folder: Path) -> tuple[list[str], list[str]]:
    """(`xpuplan train` arguments, the row's knobs the CLI lacks) for a training row."""
    name = str(row["model_name"]).lower()
    model = BUILTIN_NAMES.get(name) or resolve_builtin(name) or _config_json(row, folder)
    args = ["train", model, "--chip", row["chip_id"], "--chips", str(int(row["n_chips_true"])),
            "--seq-len", str(int(row["seq_len"])),
            "--global-batch", str(int(row["global_batch_seqs"])),
            "--precision", PRECISION[str(row["precision"]).lower()]]
    for opt, key in (("--tp", "tp_chips"), ("--pp", "pp_chips"), ("--dp", "dp_chips"),
                     ("--cp", "cp_chips"), ("--ep", "ep_chips"), ("--vpp", "vpp"),
                     ("--micro-batch", "micro_batch"), ("--zero", "zero_stage")):
        value = _int(row, key)  # absent: validate's default, 1 (zero stage 0 stays 0)
        args += [opt, str(1 if value is None or (value == 0 and key != "zero_stage") else value)]
    missing: list[str] = []
    policy = _v(row, "remat_policy")
    if policy is not None:
        _knob(args, missing, have, "--remat-policy", str(policy))
    else:
        args += ["--recompute", ("none", "selective", "full")[
            RECOMPUTE.get(str(row["recompute"]).lower(), 0)]]
    if str(row.get("attention_kernel")) == "dense":
        _knob(args, missing, have, "--dense-attention", None)
    if _v(row, "moe_capacity_factor") is not None:
        _knob(args, missing, have, "--capacity-factor", str(row["moe_capacity_factor"]))
    for opt, key in (("--state-format", "state_format"),
                     ("--cpu-offload-layers", "cpu_offload_layers"),
                     ("--saved-inputs", "saved_input_format")):  # the memory settings
        value = _v(row, key)
        if value is not None:
            _knob(args, missing, have, opt, str(int(value) if isinstance(value, float)
                                                else value))
    return [*args, "--json"], missing


def infer_command(row: dict, have: set[str]) -> tuple[list[str], list[str]]:
    """(`xpuplan infer` arguments, the row's knobs the CLI lacks) for a serving row."""
    ref = _v(row, "model_ref")
    name = str(ref if ref is not None else row["model_name"])
    chip = hardware_catalog().chip(row["chip_id"])
    tp, pp, ep = int(row["tp_chips"]), int(row["pp_chips"]), _int(row, "ep_chips") or 1
    args = ["infer", resolve_builtin(name) or name, "--chip", row["chip_id"],
            "--chips", str(max(tp * pp, ep * pp)), "--tp", str(tp), "--pp", str(pp),
            "--ep", str(ep), "--input-len", str(int(row["input_len"])),
            "--output-len", str(int(row["output_len"])), "--weights", row["weights"],
            "--kv", _v(row, "kv") or "bf16",
            "--engine", engine_for_framework(chip.vendor, str(row["framework"]))]
    if _v(row, "activations") is not None:
        args += ["--activations", row["activations"]]
    mode, batch = row["mode"], _int(row, "batch")
    if mode == "single_stream":
        args += ["--batch", "1"]
    elif mode == "fixed_batch" and batch:
        args += ["--batch", str(batch)]
    elif mode == "server":
        limits = mlperf_latency_limits().get((ref, row["scenario"]))
        if limits is not None:
            args += ["--ttft-ms", f"{limits[0] * 1e3:g}", "--tpot-ms", f"{limits[1] * 1e3:g}"]
    missing: list[str] = []
    args += _run_knobs(row, have, missing)
    return [*args, "--json"], missing


def _run_knobs(row: dict, have: set[str], missing: list[str]) -> list[str]:
    """The engine's run settings the row publishes, as options (those the CLI lacks go to
    `missing`): batch cap, scheduler steps, eager launches, async scheduling, static shapes,
    context buckets (the columns and files calibrate.infer_set reads)."""
    args: list[str] = []
    for opt, key in (("--max-running-batch", "max_running_batch"),
                     ("--scheduler-steps", "scheduler_steps"),
                     ("--compiled-batch", "compiled_batch"),
                     ("--compiled-seq-len", "compiled_seq_len")):
        if _int(row, key):
            _knob(args, missing, have, opt, str(_int(row, key)))
    if str(row.get("cuda_graphs", "")).lower() == "false":
        _knob(args, missing, have, "--eager", None)
    if str(row.get("async_scheduling", "")).lower() == "true":
        _knob(args, missing, have, "--async-scheduling", None)
    if not _int(row, "compiled_seq_len") and _static_caches().get(row["id"]):
        _knob(args, missing, have, "--static-kv-tokens", str(_static_caches()[row["id"]]))
    if _context_buckets().get(row["id"]):
        _knob(args, missing, have, "--context-buckets",
              ",".join(map(str, _context_buckets()[row["id"]])))
    return args


def _knob(args: list[str], missing: list[str], have: set[str], opt: str, value: str | None):
    """Add `opt [value]` when the CLI has it, else note it as missing."""
    if opt not in have:
        missing.append(opt if value is None else f"{opt} {value}")
    else:
        args += [opt] if value is None else [opt, value]


def run_cli(args: list[str]) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of `xpuplan ARGS`, in-process."""
    out, err = io.StringIO(), io.StringIO()
    code = 0
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            cli.main(args)
        except SystemExit as exc:
            code = int(exc.code or 0)
    return code, out.getvalue(), err.getvalue()


def cli_figure(row: dict, kind: str, data: dict) -> float:
    """The row's metric from the command's JSON (what validate compares)."""
    if kind == "train":
        return float(data["tokens_per_s_per_chip"])
    metric = row["target_metric"]
    if metric == "tpot_s":
        return float(data["tpot_decode_s" if row["mode"] == "single_stream" else "tpot_s"])
    if metric == "ttft_s":
        return float(data["ttft_s"])
    out = float(data["output_tokens_per_s_per_chip"])
    if metric == "total_tokens_per_s_per_chip":
        return out * (int(row["input_len"]) + int(row["output_len"])) / int(row["output_len"])
    return out


def build_command(kind: str, row: dict, folder: Path) -> tuple[list[str], list[str]]:
    """The command and the missing knobs of one CSV row of `kind` (train or infer)."""
    if kind == "train":
        return train_command(row, _options("train"), folder)
    return infer_command(row, _options("infer"))


def csv_rows() -> dict[str, tuple[str, dict]]:
    """Row id -> (kind, CSV row) for both validation tables."""
    out = {}
    for kind in ("train", "infer"):
        frame = pd.read_csv(builtin_file(f"validation/{kind}_measurements.csv"))
        out.update({r["id"]: (kind, r) for r in frame.to_dict("records")})
    return out


def validate_memory() -> dict[str, tuple[float, bool]]:
    """Training row id -> (memory_per_chip_bytes, fits) of validate's evaluation of the row's
    published layout (calibrate.train_set)."""
    out = {}
    for r in train_rows()[0]:
        ev = evaluate(r.problem, r.layout)
        out[r.id] = (float(ev.memory_per_chip_bytes[0]), bool(ev.fits[0]))
    return out


def check_row(kind: str, row: dict, predicted: float, folder: Path,
              memory: tuple[float, bool] | None = None) -> dict:
    """One row's command, figure, relative difference from validate, or refusal; with
    validate's (memory, fits) of a training row, the command's and their difference."""
    args, missing = build_command(kind, row, folder)
    code, out, err = run_cli(args)
    item = {"id": row["id"], "kind": kind, "command": "xpuplan " + " ".join(args),
            "missing": missing, "predicted": predicted, "exit": code}
    if code != 0:
        return {**item, "error": err.strip().splitlines()[-1] if err.strip() else ""}
    data = json.loads(out)
    figure = cli_figure(row, kind, data)
    item |= {"cli": figure, "rel_diff": figure / predicted - 1}
    if memory is not None:
        item |= {"memory": data["memory_per_chip_bytes"], "memory_validate": memory[0],
                 "memory_rel_diff": data["memory_per_chip_bytes"] / memory[0] - 1,
                 "fits": data["fits"], "fits_validate": memory[1]}
    return item


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", help="a saved `xpuplan validate --json`")
    parser.add_argument("--out", help="write every row's result as JSON here")
    parser.add_argument("--tol", type=float, default=0.02, help="relative difference reported")
    parser.add_argument("--id", nargs="*", help="only these row ids")
    parser.add_argument("--quiet", action="store_true", help="counts only")
    a = parser.parse_args(argv)
    report = (json.loads(Path(a.baseline).read_text()) if a.baseline
              else api.validate().to_dict())
    rows, skips, memory = csv_rows(), _skips(), validate_memory()
    wanted = [r for r in report["rows"] if not a.id or r["id"] in a.id]
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for r in wanted:
            kind, row = rows[r["id"]]
            assert r["id"] not in skips
            results.append(check_row(kind, row, r["predicted"], Path(tmp), memory.get(r["id"])))
    refused = [x for x in results if x["exit"] != 0]
    off = [x for x in results if x["exit"] == 0 and abs(x["rel_diff"]) > a.tol]
    mem_off = [x for x in results if "memory" in x and (
        abs(x["memory_rel_diff"]) > a.tol or x["fits"] != x["fits_validate"])]
    n_train = sum("memory" in x for x in results)
    print(f"checked {len(results)}, refused {len(refused)}, off by > {a.tol:.0%}: {len(off)}; "
          f"training memory or fits off: {len(mem_off)} of {n_train}")
    if not a.quiet:
        _print_off(refused, off, mem_off)
    if a.out:
        Path(a.out).write_text(json.dumps(results, indent=1))


def _print_off(refused: list[dict], off: list[dict], mem_off: list[dict]) -> None:
    """Each refused row, each row off in its figure, each training row off in memory."""
    for x in refused:
        print(f"REFUSED {x['id']}: {x['error']}\n  {x['command']}")
    for x in sorted(off, key=lambda x: -abs(x["rel_diff"])):
        lack = f"; lacks {', '.join(x['missing'])}" if x["missing"] else ""
        print(f"OFF {x['id']}: cli {x['cli']:.6g} vs validate {x['predicted']:.6g} "
              f"({x['rel_diff']:+.1%}){lack}\n  {x['command']}")
    for x in sorted(mem_off, key=lambda x: -abs(x["memory_rel_diff"])):
        lack = f"; lacks {', '.join(x['missing'])}" if x["missing"] else ""
        print(f"MEMORY {x['id']}: cli {x['memory'] / 1e9:.1f} GB fits {x['fits']} vs validate "
              f"{x['memory_validate'] / 1e9:.1f} GB fits {x['fits_validate']} "
              f"({x['memory_rel_diff']:+.1%}){lack}\n  {x['command']}")


if __name__ == "__main__":
    main(sys.argv[1:])
