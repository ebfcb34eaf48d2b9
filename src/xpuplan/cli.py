"""The `xpuplan` command line: thin typer commands over `xpuplan.api`.

Results go to stdout (a rich table, or one JSON object with --json); errors go to stderr as
one line `error: ...` with exit code 2 for bad input, 1 when nothing is feasible.
"""

from __future__ import annotations

import os
import sys
import warnings
from contextlib import contextmanager
from typing import Annotated, TypedDict

import typer
from rich.console import Console
from rich.progress import Progress
from rich.table import Table

from xpuplan import __version__, api
from xpuplan.errors import SpecError, XpuplanError, one_line
from xpuplan.units import fmt_si, parse_count
from xpuplan.views.output_file import check_output, write_output
from xpuplan.views.strict_json import strict_json
from xpuplan.views.terminal import (
    show_compare,
    show_compare_serving,
    show_deals,
    show_examples,
    show_infer,
    show_plan,
    show_search,
    show_train,
    show_validation,
)

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Plan AI training and serving across accelerators.")
out = Console(soft_wrap=True)
err = Console(stderr=True)
STATE: dict = {"catalog": None, "debug": False}

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object, nothing else.")]
TermOpt = Annotated[api.PriceTerm, typer.Option("--price-term", help="Price basis.")]
PriceOpt = Annotated[float | None, typer.Option(
    "--usd-per-chip-hour", help="One given price per chip-hour instead of the catalog's.")]


class PriceBasis(TypedDict):
    """`--price-term` and `--usd-per-chip-hour`, passed on to the API as they are."""
    price_term: str
    usd_per_chip_hour: float | None


def _print_version(value: bool) -> None:
    if value:
        out.print(f"xpuplan {__version__}")
        raise typer.Exit(0)


@app.callback()
def _options(
    catalog: Annotated[list[str] | None, typer.Option(
        help="Extra chip/system/instance catalog (TOML/YAML); repeatable. "
             "Also $XPUPLAN_CATALOG.")] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                          help="Print the version and exit.")] = False,
) -> None:
    STATE["catalog"], STATE["debug"] = catalog, debug


def emit_json(obj: object) -> None:
    """One strict JSON object (no NaN/Infinity: views.strict_json) on stdout."""
    sys.stdout.write(strict_json(obj) + "\n")


@app.command()
def chips(as_json: JsonOpt = False) -> None:
    """List the accelerator catalog (dense FLOP/s, HBM, fabrics) with sources."""
    if as_json:
        return emit_json(api.chips_json(catalog_files=STATE["catalog"]))
    items = api.chips(catalog_files=STATE["catalog"])
    # Silicon only (fabrics are per system: `xpuplan systems`); units in the headers, so the
    # table fits 80 columns with every id whole (what the user types).
    table = Table(caption="dense FLOP/s; decimal units; --json has sources")
    table.add_column("id", no_wrap=True)
    for name in ("BF16 TFLOP/s", "FP8 TFLOP/s", "FP4 TFLOP/s", "HBM GB", "HBM TB/s", "TDP W"):
        table.add_column(name, justify="right", overflow="fold")
    for c in items:
        table.add_row(c.id, _num(c.bf16_dense_flops, 1e12), _num(c.fp8_dense_flops, 1e12),
                      _num(c.fp4_dense_flops, 1e12), _num(c.hbm_bytes, 1e9),
                      _num(c.hbm_bw, 1e12), _num(c.tdp_w, 1))
    out.print(table)


@app.command()
def systems(as_json: JsonOpt = False) -> None:
    """List systems: chip, chips per node, scale-up domain and topology, fabrics, instance."""
    items = api.systems(catalog_files=STATE["catalog"])
    if as_json:
        return emit_json({"systems": [api.system_figures(s) for s in items]})
    table = Table(caption="* the chip's default system; bandwidths per chip per direction, "
                  "GB/s; --json has node size, power, instance and sources")
    table.add_column("system", no_wrap=True)  # ids whole: what the user types
    table.add_column("chip", no_wrap=True)
    table.add_column("domain", overflow="fold")
    table.add_column("topology", no_wrap=True)
    for name in ("up", "out"):
        table.add_column(name, justify="right", no_wrap=True)
    for s in items:
        shape = "x".join(map(str, s.torus_dims)) if s.torus_dims else ""
        table.add_row(s.id + ("*" if s.default else ""), s.chip,
                      f"{s.domain_chips} {shape}".strip(), s.topology,
                      _num(s.scaleup_bw_unidir, 1e9), _num(s.scaleout_bw_unidir, 1e9))
    out.print(table)


@app.command()
def instances(as_json: JsonOpt = False) -> None:
    """List cloud instances with their chips and prices (per hour), with sources."""
    if as_json:
        return emit_json(api.instances_json(catalog_files=STATE["catalog"]))
    items = api.instances(catalog_files=STATE["catalog"])
    table = Table("id", "provider", "chip", "chips", "region", "on-demand $/h", "$/chip-h",
                  "1y $/h", "3y $/h", "price date")
    for i in items:
        per_chip = i.usd_per_chip_s()
        table.add_row(i.id, i.provider, i.chip, str(i.chips), i.region,
                      _usd_h(i.on_demand_usd_per_s), _usd_h(per_chip),
                      _usd_h(i.commit_1y_usd_per_s), _usd_h(i.commit_3y_usd_per_s),
                      i.price_date)
    out.print(table)


@app.command()
def models(as_json: JsonOpt = False) -> None:
    """List the built-in models with their published parameter counts and sources."""
    if as_json:
        return emit_json(api.models_json())
    entries = api.models()
    table = Table("id", "name", "published total", "published active", "source")
    for e in entries:
        table.add_row(e.id, e.name, fmt_si(e.published_total_params),
                      fmt_si(e.published_active_params), e.params_source[:60])
    out.print(table)


@app.command()
def model(
    source: Annotated[str, typer.Argument(help="Built-in name, config.json path/folder, or "
                                               "Hugging Face id.")],
    seq_len: Annotated[int, typer.Option(help="Sequence length for per-token FLOPs.")] = (
        api.DEFAULT_SEQ_LEN),
    as_json: JsonOpt = False,
) -> None:
    """Show a model's parameters, FLOPs per token and weight bytes."""
    s = api.model_summary(source, seq_len=seq_len)
    if as_json:
        return emit_json(s.to_dict())
    table = Table("quantity", "value", title=f"{s.name} ({s.model_type}), seq {s.seq_len}")
    for label, value in (("total params", fmt_si(s.total_params)),
                         ("active params", fmt_si(s.active_params)),
                         ("embedding params", fmt_si(s.embedding_params)),
                         ("MTP params (not in total)", fmt_si(s.mtp_params)),
                         ("fwd FLOP/token", fmt_si(s.flops_per_token_fwd, "FLOP")),
                         ("train FLOP/token", fmt_si(s.flops_per_token_train, "FLOP"))):
        table.add_row(label, value)
    for precision, nbytes in s.weight_bytes.items():
        table.add_row(f"weights {precision}", fmt_si(nbytes, "B"))
    out.print(table)


ModelArg = Annotated[str, typer.Argument(help="Built-in name, config.json path/folder or "
                                                "Hugging Face id.")]
ChipOpt = Annotated[str, typer.Option("--chip", help="Chip id or alias (xpuplan chips).")]
ChipsOpt = Annotated[int, typer.Option("--chips", help="Number of chips.")]
SeqOpt = Annotated[int | None, typer.Option(
    "--seq-len", help="Tokens per sequence (default 8192, or the model's position table).")]
BatchOpt = Annotated[int | None, typer.Option(
    "--global-batch", help="Sequences per step (default: 16M tokens / seq-len).")]
TokensOpt = Annotated[str | None, typer.Option(
    "--tokens", help="Training tokens, e.g. 15T: adds time, chip-hours, cost, energy.")]
PrecisionOpt = Annotated[api.Precision, typer.Option("--precision", help="GEMM precision.")]
Knob = Annotated[int | None, typer.Option(help="Fix this knob (else searched).")]


def _engine_help() -> str:
    """--engine's help from the catalog's engine records (api.engines), so it never drifts."""
    per_vendor = ", ".join(f"{' | '.join(e['engines'])} on {vendor} (default {e['default']})"
                           for vendor, e in api.engines().items())
    return f"Serving engine: {per_vendor}; vllm-v0 is vLLM 0.4-0.6's V0 engine."


EngineOpt = Annotated[str | None, typer.Option(help=_engine_help())]
RecomputeOpt = Annotated[str | None, typer.Option(
    help="Fix activation recompute: none, selective, full, or the share 0..1 of each layer's "
         "forward recomputed (e.g. 0.6).")]


# How a published run ran, for `train` and `infer` (api.train / api.infer keywords).
RematOpt = Annotated[str | None, typer.Option(
    help="MaxText remat policy (a preset, or custom:name=device|offload|remat;...) instead of "
         "--recompute.")]
DenseOpt = Annotated[bool, typer.Option(
    help="Attention materialises the S x S scores (no flash kernel).")]
CapacityOpt = Annotated[float | None, typer.Option(
    help="Token-dropping MoE capacity factor (default: dropless).")]
StateFormatOpt = Annotated[str, typer.Option(
    help="Model-state bytes per parameter (memory only): megatron (bf16 weights, fp32 grads, "
         "fp32 master + Adam: 2+4+12 B), megatron-bf16-grads (2+2+16 B), or maxtext-W-G-M "
         "(MaxText weight, grad, mu dtypes, each fp32 or bf16).")]
CpuOffloadOpt = Annotated[int, typer.Option(
    help="Layers whose activations go to host memory (Megatron --cpu-offloading-num-layers; "
         "0 to layers-1; memory only).")]
SavedInputsOpt = Annotated[str, typer.Option(
    help="GEMM inputs kept for the weight gradients: bf16, or fp8 | mxfp8 (Transformer "
         "Engine under an fp8 recipe; memory only).")]
MaxRunOpt = Annotated[int | None, typer.Option(
    help="Engine cap on running sequences (e.g. --max-num-seqs; default: the engine's).")]
StepsOpt = Annotated[int | None, typer.Option(
    help="Decode steps per scheduler call (vLLM V0 --num-scheduler-steps).")]
GraphsOpt = Annotated[bool, typer.Option(
    "--cuda-graphs/--eager", help="Kernels launched from captured graphs, or eagerly.")]
AsyncOpt = Annotated[bool, typer.Option(
    help="Host schedules the next step while the device runs (vLLM async scheduling).")]
BucketsOpt = Annotated[str | None, typer.Option(
    help="Compiled context-encoding buckets a prompt pads up to, e.g. 2048,4096,8192.")]
StaticKvOpt = Annotated[int | None, typer.Option(
    help="Static KV cache per decode slot, tokens, read whole each step (JetStream).")]
CompiledBatchOpt = Annotated[int | None, typer.Option(
    help="Static-shape export's batch every decode step computes (Neuron batch_size).")]
CompiledSeqOpt = Annotated[int | None, typer.Option(
    help="Static-shape export's sequence length: cache per slot, prompts pad to it (Neuron).")]


def _fixed(tp, pp, dp, cp, ep, vpp, micro_batch, zero, recompute) -> dict:
    return {"tp": tp, "pp": pp, "dp": dp, "cp": cp, "ep": ep, "vpp": vpp,
            "micro_batch": micro_batch, "zero": zero,
            "recompute": recompute}


@app.command()
def train(model: ModelArg, chip: ChipOpt, chips: ChipsOpt, seq_len: SeqOpt = None,
          global_batch: BatchOpt = None, tokens: TokensOpt = None,
          precision: PrecisionOpt = api.Precision.bf16, tp: Knob = None, pp: Knob = None,
          dp: Knob = None, cp: Knob = None, ep: Knob = None, vpp: Knob = None,
          micro_batch: Knob = None, zero: Knob = None, recompute: RecomputeOpt = None,
          interval: Annotated[bool, typer.Option(help="P10-P90 of step time and cost.")] = False,
          price_term: TermOpt = api.PriceTerm.on_demand, usd_per_chip_hour: PriceOpt = None,
          remat_policy: RematOpt = None, dense_attention: DenseOpt = False,
          capacity_factor: CapacityOpt = None, state_format: StateFormatOpt = "megatron",
          cpu_offload_layers: CpuOffloadOpt = 0, saved_inputs: SavedInputsOpt = "bf16",
          as_json: JsonOpt = False) -> None:
    """Predict step time, memory, MFU (and time/cost to train) for one layout."""
    budget = parse_count(tokens, "tokens") if tokens is not None else None
    fixed = _fixed(tp, pp, dp, cp, ep, vpp, micro_batch, zero, recompute)
    data = api.train_json(model, chip=chip, n_chips=chips, seq_len=seq_len,
                          global_batch=global_batch, precision=precision.value, tokens=budget,
                          catalog_files=STATE["catalog"], interval=interval,
                          price_term=price_term.value, usd_per_chip_hour=usd_per_chip_hour,
                          remat_policy=remat_policy, dense_attention=dense_attention,
                          moe_capacity_factor=capacity_factor, state_format=state_format,
                          cpu_offload_layers=cpu_offload_layers,
                          saved_input_format=saved_inputs, **fixed)
    if as_json:
        return emit_json(data)
    show_train(data)


@app.command()
def search(model: ModelArg, chip: ChipOpt, chips: ChipsOpt, seq_len: SeqOpt = None,
           global_batch: BatchOpt = None, precision: PrecisionOpt = api.Precision.bf16,
           top: Annotated[int, typer.Option(help="How many layouts to show.")] = 5,
           tp: Knob = None, pp: Knob = None, dp: Knob = None, cp: Knob = None,
           ep: Knob = None, vpp: Knob = None, micro_batch: Knob = None, zero: Knob = None,
           recompute: RecomputeOpt = None, state_format: StateFormatOpt = "megatron",
           cpu_offload_layers: CpuOffloadOpt = 0, saved_inputs: SavedInputsOpt = "bf16",
           as_json: JsonOpt = False) -> None:
    """Search every legal layout; show the fastest that fit, and why each wins."""
    problem = api.train_problem(model, chip=chip, n_chips=chips, seq_len=seq_len,
                                global_batch=global_batch, precision=precision.value,
                                catalog_files=STATE["catalog"], state_format=state_format,
                                cpu_offload_layers=cpu_offload_layers,
                                saved_input_format=saved_inputs)
    fixed = _fixed(tp, pp, dp, cp, ep, vpp, micro_batch, zero, recompute)
    with err.status(f"searching layouts of {problem.model.name} on {chips} {chip} ..."):
        data = api.search_layouts(problem, top=top, **fixed).to_dict()
    if as_json:
        return emit_json(data)
    show_search(data)


@app.command()
def compare(
    model: Annotated[str, typer.Argument(help="Model (default: Llama 3.1 70B).")] = (
        api.DEFAULT_COMPARE_MODEL),
    chip: Annotated[str, typer.Option("--chip", help="Comma-separated chips.")] = ",".join(
        api.DEFAULT_COMPARE_CHIPS),
    chips: ChipsOpt = api.DEFAULT_COMPARE_CHIP_COUNT, tokens: Annotated[str, typer.Option(
        help="Training tokens.")] = "15T", seq_len: SeqOpt = None,
    global_batch: BatchOpt = None, precision: PrecisionOpt = api.Precision.bf16,
    serve: Annotated[bool, typer.Option(help="Compare serving instead of training.")] = False,
    input_len: Annotated[int, typer.Option("--input-len")] = 1024,
    output_len: Annotated[int, typer.Option("--output-len")] = 1024,
    price_term: TermOpt = api.PriceTerm.on_demand, usd_per_chip_hour: PriceOpt = None,
    engine: EngineOpt = None, as_json: JsonOpt = False,
) -> None:
    """Train (or with --serve, serve) one model on each accelerator, side by side, every cost
    on one price basis; --engine runs that serving engine on every chip."""
    basis: PriceBasis = {"price_term": price_term.value, "usd_per_chip_hour": usd_per_chip_hour}
    names = [c.strip() for c in chip.split(",") if c.strip()]
    for name in names:  # unknown names fail before any progress display starts
        api.chip(name, catalog_files=STATE["catalog"])
    if serve:
        return _compare_serving(model, names, chips, input_len, output_len, as_json,
                                {**basis, "engine": engine})
    if engine is not None:
        raise SpecError("--engine", engine, "only with --serve (training runs no serving "
                        "engine)")
    with Progress(transient=True, console=err, disable=not err.is_terminal) as bar:
        task = bar.add_task("searching layouts", total=len(names))
        rows = api.compare(model, chips=names, n_chips=chips,
                           tokens=parse_count(tokens, "tokens"), seq_len=seq_len,
                           global_batch=global_batch, precision=precision.value,
                           catalog_files=STATE["catalog"],
                           progress=lambda _: bar.advance(task), **basis)
    if as_json:
        return emit_json(rows.to_dict())
    show_compare(model, chips, tokens, rows)


@app.command()
def infer(model: ModelArg, chip: ChipOpt,
          chips: Annotated[int | None, typer.Option(
              "--chips", help="Chips (default: fewest powers of two that hold the weights).")]
          = None,
          input_len: Annotated[int, typer.Option("--input-len")] = 1024,
          output_len: Annotated[int, typer.Option("--output-len")] = 1024,
          batch: Annotated[int | None, typer.Option(help="Concurrent sequences per replica.")]
          = None,
          ttft_ms: Annotated[float | None, typer.Option("--ttft-ms", help="SLO on TTFT, ms.")]
          = None,
          tpot_ms: Annotated[float | None, typer.Option("--tpot-ms", help="SLO on TPOT, ms.")]
          = None,
          tp: Knob = None, pp: Knob = None, ep: Knob = None,
          weights: Annotated[api.Weights, typer.Option()] = api.Weights.bf16,
          activations: Annotated[api.Weights | None, typer.Option(
              help="GEMM precision if not the weights' (e.g. --weights fp4 --activations bf16 "
                   "for weight-only MXFP4 on Hopper).")] = None,
          kv: Annotated[api.Kv | None, typer.Option(help="KV-cache precision.")] = None,
          disaggregated: Annotated[bool, typer.Option(help="Separate prefill/decode pools.")]
          = False,
          plot: Annotated[str | None, typer.Option(help="Write the Pareto front (.html/.png).")]
          = None,
          interval: Annotated[bool, typer.Option(help="P10-P90 of latency and throughput.")]
          = False,
          price_term: TermOpt = api.PriceTerm.on_demand, usd_per_chip_hour: PriceOpt = None,
          engine: EngineOpt = None, max_running_batch: MaxRunOpt = None,
          scheduler_steps: StepsOpt = None, cuda_graphs: GraphsOpt = True,
          async_scheduling: AsyncOpt = False, context_buckets: BucketsOpt = None,
          static_kv_tokens: StaticKvOpt = None, compiled_batch: CompiledBatchOpt = None,
          compiled_seq_len: CompiledSeqOpt = None, as_json: JsonOpt = False) -> None:
    """Serve a model: TTFT, TPOT, throughput, max concurrency and $ per million tokens."""
    if plot:
        check_output(plot, "plot", [model, *_catalog_paths()])
    result = api.infer(model, chip=chip, n_chips=chips, input_len=input_len,
                       output_len=output_len, batch=batch,
                       ttft_s=api.slo_seconds(ttft_ms, field="--ttft-ms"),
                       tpot_s=api.slo_seconds(tpot_ms, field="--tpot-ms"),
                       weights=weights.value, kv=kv.value if kv else None,
                       disaggregated=disaggregated, catalog_files=STATE["catalog"],
                       interval=interval, activations=activations.value if activations else None,
                       price_term=price_term.value, usd_per_chip_hour=usd_per_chip_hour,
                       engine=engine, tp=tp, pp=pp, ep=ep, max_running_batch=max_running_batch,
                       scheduler_steps=scheduler_steps, cuda_graphs=cuda_graphs,
                       async_scheduling=async_scheduling, static_kv_tokens=static_kv_tokens,
                       context_buckets=api.parse_buckets(context_buckets,
                                                         field="--context-buckets"),
                       compiled_batch=compiled_batch, compiled_seq_len=compiled_seq_len)
    if plot:
        from xpuplan.views.charts import pareto_figure, write_figure

        write_figure(pareto_figure(result), plot, inputs=[model, *_catalog_paths()])
    if as_json:
        return emit_json(result.to_dict())
    show_infer(result.to_dict())


@app.command()
def plan(
    scenario: Annotated[str | None, typer.Argument(help="Scenario YAML file.")] = None,
    example: Annotated[str | None, typer.Option(help="Run a built-in scenario by name.")] = None,
    list_: Annotated[bool, typer.Option("--list", help="List the built-in scenarios.")] = False,
    report: Annotated[str | None, typer.Option(help="Write a self-contained HTML report.")]
    = None,
    template: Annotated[str | None, typer.Option(
        help="Print a commented scenario skeleton of this kind.")] = None,
    show: Annotated[str | None, typer.Option(help="Print a built-in scenario's YAML.")] = None,
    solve: Annotated[str | None, typer.Option(
        help="Goal-seek this input (e.g. discount, gw, training.chips, vendors[1].fixed_share)"
    )] = None,
    target: Annotated[str | None, typer.Option(help="OUTPUT=VALUE the solved input meets.")]
    = None,
    between: Annotated[str | None, typer.Option(help="LO,HI bracket of the solved input.")]
    = None,
    csv: Annotated[str | None, typer.Option(help="Write every table as CSV into DIR.")] = None,
    xlsx: Annotated[str | None, typer.Option(help="Write every table to one .xlsx file.")]
    = None,
    png: Annotated[str | None, typer.Option(help="Write PNG charts into DIR.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Contracts, power budgets, vendor mixes, investment deals and forecasts."""
    text = (api.plan_template(template) if template
            else api.plan_example_text(show) if show else None)
    if text is not None:
        return out.print(text, markup=False, highlight=False, end="")
    if list_:
        examples = api.plan_examples()
        if as_json:
            return emit_json({"examples": examples})
        return show_examples(examples)
    if report:
        check_output(report, "report", [scenario, *_catalog_paths()])
    with err.status("running the scenario (training and serving models inside) ..."):
        result = api.plan(scenario, example=example, catalog_files=STATE["catalog"], solve=solve,
                          target=_pair("target", target, "="), between=_pair(
                              "between", between, ","), tornado=bool(report or csv or xlsx or png))
    _write_plan_files(result, scenario, report, csv, xlsx, png)
    if as_json:
        return emit_json(result.to_dict())
    show_plan(result)


def _write_plan_files(result: api.PlanResult, scenario: str | None, report: str | None,
                      csv: str | None, xlsx: str | None, png: str | None) -> None:
    """Write the files `plan` was asked for: --report, --csv, --xlsx, --png, in that order."""
    if report:
        from xpuplan.views.plan_report import plan_html

        write_output(report, plan_html(result), "report", [scenario, *_catalog_paths()])
    if csv or xlsx:
        from xpuplan.views.plan_tables import write_csv, write_xlsx

        if csv:
            write_csv(result, csv)
        if xlsx:
            write_xlsx(result, xlsx)
    if png:
        from xpuplan.views.plan_png import write_png

        write_png(result, png)


@app.command()
def audit(
    path: Annotated[str, typer.Argument(help="Source tree to audit.")],
    target: Annotated[str, typer.Option(help="Comma-separated targets.")]
    = ",".join(api.AUDIT_TARGETS),
    usd_per_engineer_week: Annotated[float | None, typer.Option(
        help="Loaded cost of an engineer-week (default: BLS-sourced, audit_effort.toml).")]
    = None,
    effort: Annotated[str | None, typer.Option(help="TOML of effort records overriding the "
                                               "built-in ones (audit_effort.toml schema).")]
    = None,
    report: Annotated[str | None, typer.Option(help="Write a self-contained HTML report.")]
    = None,
    as_json: JsonOpt = False,
) -> None:
    """What a codebase needs to leave CUDA: findings, each target's offer, engineer-weeks."""
    from xpuplan.views.audit_report import audit_html, audit_tables

    targets = [t.strip() for t in target.split(",") if t.strip()]
    with Progress(console=err, transient=True, disable=not err.is_terminal) as bar:
        task = bar.add_task("auditing", total=None)
        result = api.audit(path, targets=targets, usd_per_engineer_week=usd_per_engineer_week,
                           effort_file=effort,
                           progress=lambda done, total: bar.update(task, completed=done,
                                                                   total=total))
    if report:
        write_output(report, audit_html(result), "report", [path, *_catalog_paths()])
    if as_json:
        return emit_json(result.to_dict())
    for table in audit_tables(result):
        out.print(table)


@app.command()
def sweep(
    spec: Annotated[str | None, typer.Argument(help="Sweep spec YAML (kind, axes).")] = None,
    out: Annotated[str | None, typer.Option(help="Parquet folder the rows stream to.")] = None,
    workers: Annotated[int | None, typer.Option(help="Processes (default: all cores).")] = None,
    ray: Annotated[str | None, typer.Option(help="Run as Ray tasks: auto or HOST:PORT.")] = None,
    resume: Annotated[bool, typer.Option(help="Skip cells already in --out.")] = False,
    max_cells: Annotated[int, typer.Option(help="Refuse bigger sweeps without --yes.")] = 10**6,
    yes: Annotated[bool, typer.Option(help="Run past --max-cells.")] = False,
    summarize: Annotated[str | None, typer.Option(help="Summarize a results folder.")] = None,
    html: Annotated[str | None, typer.Option(help="With --summarize: frontier chart.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """One API call per cell of a grid of inputs, locally or on Ray; rows stream to Parquet."""
    from xpuplan import sweep as sw

    if summarize:
        found = sw.summarize(summarize)
        if html:
            with _writing("html", html):
                sw.summary.write_html(found, html)
        return emit_json(found.to_dict()) if as_json else _print_all(sw.summary_tables(found))
    if spec is None or out is None:
        raise SpecError("out" if spec else "spec", out or spec, "give SPEC.yaml and --out "
                        "FOLDER to run a sweep, or --summarize FOLDER to read one")
    sweep_spec = sw.load_spec(spec)
    try:
        with sw.ProgressBar(err) as bar:
            report = sw.run_sweep(sweep_spec, out, workers, ray, resume, max_cells, yes,
                                  STATE["catalog"], progress=bar)
    except KeyboardInterrupt:
        raise sw.Interrupted(out) from None
    if as_json:
        return emit_json(report.to_dict())
    _print_all([f"{report.ran} cells ({report.skipped} already stored, {report.errors} "
                f"errors) in {report.elapsed_s:.1f} s, {report.cells_per_s:.1f} cells/s on "
                f"{report.workers} {report.runner} workers -> {report.out}"])


def _print_all(items: list) -> None:
    for item in items:
        out.print(item)


@app.command()
def deals(as_json: JsonOpt = False) -> None:
    """Announced compute deals in the catalog (buyer, seller, value, term, GW)."""
    rows = api.deals(catalog_files=STATE["catalog"])
    if as_json:
        return emit_json({"deals": rows})
    show_deals(rows)


def _pair(option: str, text: str | None, sep: str):
    """'a=1.5' -> ('a', 1.5); '0,1' -> (0.0, 1.0); None stays None."""
    if text is None:
        return None
    left, _, right = text.partition(sep)
    try:
        return (left.strip() if sep == "=" else float(left)), float(right)
    except ValueError:
        raise SpecError(option, text, "OUTPUT=VALUE" if sep == "=" else "LO,HI") from None


@contextmanager
def _writing(option: str, path: str):
    """Turn a file that cannot be written into one line naming the option and the path."""
    try:
        yield
    except OSError as exc:
        raise SpecError(option, path, f"cannot write the file ({exc.strerror})") from None


def _catalog_paths() -> list[str]:
    """The catalog files this run reads (an output must never replace one)."""
    return [str(p) for p in api.catalog_paths(STATE["catalog"])]


@app.command()
def validate(as_json: JsonOpt = False) -> None:
    """Predict every published run of the validation set; error per vendor and source."""
    with err.status("predicting the validation set (in-sample and leave-one-source-out) ..."):
        report = api.validate()
    if as_json:
        return emit_json(report.to_dict())
    show_validation(report)


@app.command()
def ui(host: Annotated[str, typer.Option(help="Address to bind (default: this machine only).")]
       = "127.0.0.1",
       port: Annotated[int, typer.Option(help="TCP port.")] = 8000,
       workers: Annotated[int, typer.Option(help="Threads computing answers.")] = 2,
       time_limit_s: Annotated[float, typer.Option(help="Seconds one request may take.")] = 60.0,
       allow_paths: Annotated[bool, typer.Option(
           help="Let requests name model paths and Hugging Face ids (trusted users only).")]
       = False) -> None:
    """Serve the web app (pages with charts, and the JSON API under /api) with uvicorn."""
    import uvicorn

    from xpuplan.web import create_app

    if not 0 < port < 65536:
        raise SpecError("port", port, "must be 1-65535")
    web = create_app(allow_paths, STATE["catalog"], workers, time_limit_s,
                     prefetch_validation=True)
    sys.stdout.write(f"xpuplan ui: http://{host}:{port}/  (API: http://{host}:{port}/docs)\n")
    sys.stdout.flush()
    uvicorn.run(web, host=host, port=port, log_level="warning")


def _compare_serving(model, names, chips, input_len, output_len, as_json, options):
    """compare --serve: defaults to a dense 70B and a large MoE on the serving chip list;
    `options`: the price basis and the engine."""
    models, names, n_chips = api.compare_serving_defaults(model, chips=names, n_chips=chips)
    with Progress(transient=True, console=err, disable=not err.is_terminal) as bar:
        task = bar.add_task("searching serving layouts", total=len(names) * len(models))
        rows = api.compare_serving(models, chips=names, input_len=input_len,
                                   output_len=output_len, n_chips=n_chips,
                                   catalog_files=STATE["catalog"],
                                   progress=lambda _: bar.advance(task), **options)
    if as_json:
        return emit_json(rows.to_dict())
    show_compare_serving(rows, input_len, output_len)


def _num(value: float | None, scale: float) -> str:
    """A figure in the header's unit (value / scale) with 3 significant digits, or '-'."""
    return "-" if value is None else f"{value / scale:,.3g}" if value / scale < 1000 else (
        f"{value / scale:,.0f}")


def _opt(value: float | None, unit: str) -> str:
    return "-" if value is None else fmt_si(value, unit)


def _usd_h(usd_per_s: float | None) -> str:
    return "-" if usd_per_s is None else f"{usd_per_s * 3600:,.2f}"


def _fail(message: str, code: int) -> None:
    """Exit with `error: message` as exactly one stderr line of bounded length."""
    sys.stderr.write(f"error: {one_line(message, api.file_limit('max_message_chars'))}\n")
    sys.exit(code)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning XpuplanError into one stderr line and an exit code."""
    warnings.filterwarnings("ignore")  # library warnings never precede the one-line answer
    command = typer.main.get_command(app)
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        # Invoked directly, not through app(): typer's own main turns Ctrl-C and typer.Exit
        # into a return value when not standalone, so they would exit 0.
        with command.make_context("xpuplan", args) as ctx:
            command.invoke(ctx)
    except XpuplanError as exc:
        if STATE["debug"]:
            raise
        _fail(str(exc), exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write("interrupted\n")
        sys.exit(130)
    except typer.Abort:
        sys.stderr.write("error: aborted\n")
        sys.exit(130)
    except BrokenPipeError:  # stdout closed by a pager or `head`: quiet, as typer did
        sys.stdout = open(os.devnull, "w")  # noqa: SIM115 (the interpreter's last flush)
        sys.exit(1)
    except Exception as exc:
        _fail_unexpected(exc)


def _fail_unexpected(exc: Exception) -> None:
    """Exit for an exception main() has no clause for: a click usage error with its message
    and code, anything else as an internal error, exit 3 (raised again with --debug)."""
    if hasattr(exc, "format_message") and hasattr(exc, "exit_code"):  # click usage errors
        message = exc.format_message()
        if message:  # empty when click printed the help for a bare `xpuplan`
            _fail(message, exc.exit_code)
        sys.exit(exc.exit_code)
    if STATE["debug"]:
        raise exc
    _fail(f"internal error ({type(exc).__name__}: {one_line(str(exc), 120)}); rerun with "
          "--debug for the traceback", 3)
