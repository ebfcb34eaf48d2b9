"""The `xpuplan` command line: thin typer commands over `xpuplan.api`.

Results go to stdout (a rich table, or one JSON object with --json); errors go to stderr as
one line `error: ...` with exit code 2 for bad input, 1 when nothing is feasible.
"""

from __future__ import annotations

import json
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from xpuplan import api
from xpuplan.errors import XpuplanError
from xpuplan.units import fmt_si

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Plan AI training and serving across accelerators.")
out = Console(soft_wrap=True)
STATE: dict = {"catalog": None, "debug": False}

JsonOpt = Annotated[bool, typer.Option("--json", help="Print one JSON object, nothing else.")]


@app.callback()
def _options(
    catalog: Annotated[list[str] | None, typer.Option(
        help="Extra chip/instance catalog (TOML/YAML); repeatable. Also $XPUPLAN_CATALOG.")] = None,
    debug: Annotated[bool, typer.Option(help="Show tracebacks.")] = False,
) -> None:
    STATE["catalog"], STATE["debug"] = catalog, debug


def emit_json(obj: object) -> None:
    sys.stdout.write(json.dumps(obj, default=str) + "\n")


@app.command()
def chips(as_json: JsonOpt = False) -> None:
    """List the accelerator catalog (dense FLOP/s, HBM, fabrics) with sources."""
    items = api.chips(STATE["catalog"])
    if as_json:
        return emit_json({"chips": [api.chip_figures(c) for c in items]})
    table = Table("id", "vendor", "BF16 dense", "FP8 dense", "FP4 dense", "HBM", "HBM BW",
                  "scale-up/dir", "domain", "scale-out/dir", "TDP")
    for c in items:
        table.add_row(c.id, c.vendor, _opt(c.bf16_dense_flops, "FLOP/s"),
                      _opt(c.fp8_dense_flops, "FLOP/s"), _opt(c.fp4_dense_flops, "FLOP/s"),
                      fmt_si(c.hbm_bytes, "B"), _opt(c.hbm_bw, "B/s"),
                      _opt(c.scaleup_bw_unidir, "B/s"), str(c.scaleup_domain_chips),
                      _opt(c.scaleout_bw_unidir, "B/s"), _opt(c.tdp_w, "W"))
    out.print(table)


@app.command()
def instances(as_json: JsonOpt = False) -> None:
    """List cloud instances with their chips and prices (per hour), with sources."""
    items = api.instances(STATE["catalog"])
    if as_json:
        return emit_json({"instances": [i.model_dump() for i in items]})
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
    entries = api.models()
    if as_json:
        return emit_json({"models": [{**vars(e), "config_path": str(e.config_path)}
                                     for e in entries]})
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
    s = api.model_summary(source, seq_len)
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


def _opt(value: float | None, unit: str) -> str:
    return "-" if value is None else fmt_si(value, unit)


def _usd_h(usd_per_s: float | None) -> str:
    return "-" if usd_per_s is None else f"{usd_per_s * 3600:,.2f}"


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the app, turning XpuplanError into one stderr line and an exit code."""
    try:
        app(args=argv, standalone_mode=False)
    except XpuplanError as exc:
        if STATE["debug"]:
            raise
        sys.stderr.write(f"error: {exc}\n")
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except (typer.Abort, KeyboardInterrupt):
        sys.stderr.write("error: aborted\n")
        sys.exit(130)
    except Exception as exc:  # click usage errors come through here in non-standalone mode
        import click

        if isinstance(exc, click.ClickException):
            exc.show()
            sys.exit(exc.exit_code)
        if STATE["debug"]:
            raise
        sys.stderr.write(f"error: internal error ({type(exc).__name__}: {exc}); "
                         "rerun with --debug for the traceback\n")
        sys.exit(3)
