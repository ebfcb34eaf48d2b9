"""Rich tables for the CLI's human output; every number comes from an API result dict."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table

from xpuplan.api import Comparison, ServeComparison
from xpuplan.units import fmt_duration, fmt_si, fmt_usd

console = Console()
MS = 1e-3  # seconds per millisecond: serving latencies are shown in ms


def _layout(p: dict) -> str:
    text = f"tp{p['tp']} pp{p['pp']} dp{p['dp']}"
    for key, label in (("cp", "cp"), ("ep", "ep"), ("vpp", "vpp")):
        if p[key] > 1:
            text += f" {label}{p[key]}"
    rc, f = p["recompute"], p.get("recompute_fraction", 1.0)
    rc = f"{f:.2f}" if rc == "full" and f < 1 else rc  # a partial recompute shows its share
    return f"{text} mb{p['micro_batch']} z{p['zero']} rc:{rc}"


def _layout_compact(p: dict) -> str:
    """The layout in few characters: degrees above 1, micro-batch, ZeRO stage, recompute."""
    degrees = [f"{k}{p[k]}" for k in ("tp", "pp", "dp", "cp", "ep", "vpp") if p[k] > 1]
    recompute = {"none": "", "selective": "rc:sel"}.get(p["recompute"], f"rc:{p['recompute']}")
    return " ".join([*degrees, f"mb{p['micro_batch']}", f"z{p['zero']}", recompute]).strip()


def _confidence(c: dict | None, compact: bool = False) -> str:
    """A prediction's confidence (calibrate.confidence) as table text."""
    if not c:
        return "-"
    if c["status"] == "validated":
        err = f"±{c['chip_median_error_loso']:.0%}"
        return (err if compact else f"validated: LOSO {err} on {c['chip_rows']} "
                f"rows, {c['chip_sources']} sources (group {c['group']})")
    return "extrap." if compact else f"extrapolated: {c['why']} (group {c['group']})"


def show_train(d: dict) -> None:
    """Print one training prediction (`train --json` dict) as a table."""
    head = Table(title=f"{d['model']} on {d['n_chips']} x {d['chip']} ({d['precision']}, "
                 f"seq {d['seq_len']}, batch {d['global_batch']})", show_header=False)
    head.add_row("layout", _layout(d["parallelism"]))
    head.add_row("step time", fmt_duration(d["step_time_s"]))
    head.add_row("tokens/s (per chip)", f"{fmt_si(d['tokens_per_s'])} "
                 f"({d['tokens_per_s_per_chip']:,.0f})")
    head.add_row("MFU / HFU", f"{d['mfu']:.1%} / {d['hfu']:.1%}")
    head.add_row("memory per chip", f"{fmt_si(d['memory_per_chip_bytes'], 'B')} of "
                 f"{fmt_si(d['hbm_bytes'], 'B')}")
    head.add_row("confidence", _confidence(d.get("confidence")))
    if d.get("time_to_train_s") is not None:
        head.add_row("time to train", fmt_duration(d["time_to_train_s"]))
        head.add_row("chip-hours", fmt_si(d["chip_hours"]))
        cost = d.get("cost_usd")
        head.add_row("cost", "no priced instance in the catalog" if cost is None else
                     f"{fmt_usd(cost)} ({d['instance']}, ${d['usd_per_chip_hour']:.2f}/chip-h)")
        if d.get("energy_j") is not None:
            head.add_row("chip energy", f"{fmt_si(d['energy_j'], 'J')}")
    if d.get("interval"):
        iv = d["interval"]
        head.add_row("step time P10-P90", " - ".join(fmt_duration(x)
                                                     for x in iv["step_time_s"][::2]))
        if "cost_usd" in iv:
            head.add_row("cost P10-P90", " - ".join(fmt_usd(x) for x in iv["cost_usd"][::2]))
    console.print(head)
    parts = Table("step part", "seconds", "share", "memory part", "bytes")
    times = sorted(d["breakdown_s"].items(), key=lambda kv: -kv[1])
    mems = sorted(d["memory_bytes"].items(), key=lambda kv: -kv[1])
    for i in range(max(len(times), len(mems))):
        t = times[i] if i < len(times) else ("", None)
        m = mems[i] if i < len(mems) else ("", None)
        parts.add_row(t[0], "" if t[1] is None else f"{t[1]:.4g}",
                      "" if t[1] is None else f"{t[1] / d['step_time_s']:.0%}",
                      m[0], "" if m[1] is None else fmt_si(m[1], "B"))
    console.print(parts)
    console.print(d["takeaway"])


def show_search(d: dict) -> None:
    """Print the top layouts of a training search as a table."""
    table = Table("#", "layout", "step", "tokens/s/chip", "MFU", "mem/chip", "why",
                  title=f"{d['configs_evaluated']:,} layouts evaluated in "
                  f"{d['search_time_s']:.2f} s; {d['configs_fitting']:,} fit")
    for i, r in enumerate(d["top"], 1):
        table.add_row(str(i), _layout(r["parallelism"]), fmt_duration(r["step_time_s"]),
                      f"{r['tokens_per_s_per_chip']:,.0f}", f"{r['mfu']:.1%}",
                      fmt_si(r["memory_per_chip_bytes"], "B"), r["takeaway"])
    console.print(table)


def show_compare(model: str, chips: int, tokens: str, rows: Comparison) -> None:
    """Print a training comparison across chips as a table that fits 80 columns: numbers
    never wrap, the layout wraps at its spaces and the price sources follow the table."""
    table = Table(title=f"{model}: {tokens} tokens on {chips:,} chips each",
                  box=box.SIMPLE_HEAD, pad_edge=False)
    table.add_column("chip", no_wrap=True)  # ids whole: what the user types
    table.add_column("best layout", min_width=10)
    for name in ("time to\ntrain", "cost", "$/chip\n-h", "MFU", "tokens\n/s/chip"):
        table.add_column(name, no_wrap=True, justify="right")
    table.add_column("conf.", no_wrap=True, justify="right")
    prices = []
    for row in rows:
        r = row.result
        if r is None:
            table.add_row(row.chip, f"[red]{row.error}[/red]", "", "", "", "", "", "")
            continue
        run = r.run
        cost = run.cost_usd if run else None
        if cost is not None:
            prices.append(f"{r.chip} {run.instance or run.price_term}")
        table.add_row(r.chip, _layout_compact(r.parallelism),
                      fmt_duration(run.time_to_train_s) if run else "-",
                      "-" if cost is None else fmt_usd(cost),
                      "-" if cost is None else f"{run.usd_per_chip_hour:.2f}",
                      f"{r.mfu:.1%}", f"{r.tokens_per_s_per_chip:,.0f}",
                      _confidence(r.confidence, compact=True))
    console.print(table)
    console.print(f"Cost = chip-hours x one price basis: {rows.price_basis} (xpuplan "
                  "instances; --price-term, --usd-per-chip-hour).")
    if prices:
        console.print("Priced from: " + "; ".join(prices) + ".")
    console.print("conf.: leave-one-source-out error of the chip's validation group; extrap.: "
                  "no validation rows for the chip (`xpuplan validate`).")


def _error_table(label: str, groups: dict, title: str | None = None) -> Table:
    table = Table(label, "rows", "median err", "worst", "median err LOSO", "worst LOSO",
                  title=title)
    for name, s in groups.items():
        table.add_row(name, str(s["rows"]), f"{s['median_error']:.1%}",
                      f"{s['worst_error']:.0%}", f"{s['median_error_loso']:.1%}",
                      f"{s['worst_error_loso']:.0%}")
    return table


def show_validation(report) -> None:
    """Print validation errors by vendor and source, every row and the fits at a bound."""
    console.print(_error_table("kind/vendor", report.by_vendor,
                               "|predicted/measured - 1| (training: tokens/s per chip; "
                               "serving: tokens/s per chip, TPOT or TTFT)"))
    console.print(_error_table("kind/source", report.by_source))
    rows = Table("id", "chip", "metric", "measured", "predicted", "err", "LOSO err")
    for r in report.rows:
        rows.add_row(r.id, r.chip, r.metric, f"{r.measured:,.4g}", f"{r.predicted:,.4g}",
                     f"{r.predicted / r.measured - 1:+.0%}",
                     f"{r.predicted_loso / r.measured - 1:+.0%}")
    console.print(rows)
    bounds = Table("kind", "group", "parameter", "value", "bound", "fell back to",
                   title="fitted parameters at a bound of their grid (failed fits)")
    for b in report.at_bound:
        bounds.add_row(b["kind"], b["group"], b["parameter"], f"{b['value']:g}", b["bound"],
                       b["fallback"])
    console.print(bounds if report.at_bound else "no fitted parameter at a bound")
    console.print(f"{len(report.skipped)} rows skipped (shape, layout or batch not published).")


def show_infer(d: dict) -> None:
    """Print one serving prediction (`infer --json` dict) as tables."""
    lay = d["layout"]
    acts = "" if d["activations"] == d["weights"] else f", {d['activations']} activations"
    head = Table(title=f"{d['model']} on {d['n_chips']} x {d['chip']} ({d['weights']} weights"
                 f"{acts}, {d['kv']} KV; {d['input_len']} in / {d['output_len']} out; {d['mode']})",
                 show_header=False)
    head.add_row("layout", f"{lay['replicas']} replica(s) of tp{lay['tp']} pp{lay['pp']} "
                 f"ep{lay['ep']}, batch {lay['batch']} per replica"
                 + (" (disaggregated prefill/decode)" if d["disaggregated"] else ""))
    head.add_row("TTFT", f"{d['ttft_s'] / MS:.1f} ms")
    head.add_row("TPOT (pure decode)",
                 f"{d['tpot_s'] / MS:.2f} ms ({d['tpot_decode_s'] / MS:.2f} ms)")
    head.add_row("end-to-end", fmt_duration(d["e2e_latency_s"]))
    head.add_row("output tokens/s (per chip)", f"{d['output_tokens_per_s']:,.0f} "
                 f"({d['output_tokens_per_s_per_chip']:,.0f})")
    head.add_row("max concurrency / replica",
                 f"{d['max_concurrency']:,} ({d['engine']}: {d['admission']}); "
                 f"{d['running_batch']:,} run ({d['running_batch_limit'].replace('_', ' ')}"
                 + (f", engine cap {d['engine_max_batch']:,}" if d.get("engine_max_batch") else "")
                 + ")")
    if d["usd_per_mtok_output"] is not None:
        head.add_row("$ / M tokens out, in", f"${d['usd_per_mtok_output']:.3f}, "
                     f"${d['usd_per_mtok_input']:.3f} ({d['instance']}, "
                     f"${d['usd_per_chip_hour']:.2f}/chip-h)")
    else:
        head.add_row("$ / M tokens", "no priced instance in the catalog")
    if d.get("interval"):
        iv = d["interval"]
        head.add_row("TPOT P10-P90",
                     f"{iv['tpot_s'][0] / MS:.2f} - {iv['tpot_s'][2] / MS:.2f} ms")
        head.add_row("tokens/s/chip P10-P90", f"{iv['output_tokens_per_s_per_chip'][0]:,.0f} - "
                     f"{iv['output_tokens_per_s_per_chip'][2]:,.0f}")
    head.add_row("confidence", _confidence(d.get("confidence")))
    console.print(head)
    parts = Table("decode step part", "ms", "memory part", "bytes per chip")
    times = [(k, v / MS) for k, v in d["breakdown_s"].items()]
    mems = list(d["memory_bytes"].items())
    for i in range(max(len(times), len(mems))):
        t = times[i] if i < len(times) else ("", None)
        m = mems[i] if i < len(mems) else ("", None)
        parts.add_row(t[0], "" if t[1] is None else f"{t[1]:.3g}", m[0],
                      "" if m[1] is None else fmt_si(m[1], "B"))
    console.print(parts)
    console.print(d["takeaway"])


def show_compare_serving(rows: ServeComparison, input_len: int, output_len: int) -> None:
    """Print a serving comparison across models and chips as a table."""
    table = Table(title=f"offline serving, {input_len} in / {output_len} out, "
                  "weights fp8 where supported")
    table.add_column("model", overflow="fold")
    table.add_column("chip", no_wrap=True)
    for name in ("engine", "chips", "layout", "TTFT ms", "TPOT ms", "tok/s/chip", "max conc.",
                 "$/Mtok out", "$/Mtok in", "confidence"):
        table.add_column(name, overflow="fold")
    for row in rows:
        r = row.result
        if r is None:
            table.add_row(row.model, row.chip, rows.engine or "", "", f"[red]{row.error}[/red]",
                          "", "", "", "", "", "", "")
            continue
        lay = r.layout
        table.add_row(r.model, r.chip, r.engine, str(r.n_chips),
                      f"{lay['replicas']}x tp{lay['tp']} pp{lay['pp']} ep{lay['ep']} "
                      f"b{lay['batch']}", f"{r.ttft_s / MS:.0f}",
                      f"{r.tpot_s / MS:.1f}", f"{r.output_tokens_per_s_per_chip:,.0f}",
                      f"{r.max_concurrency:,}",
                      "-" if r.usd_per_mtok_output is None else f"{r.usd_per_mtok_output:.3f}",
                      "-" if r.usd_per_mtok_input is None else f"{r.usd_per_mtok_input:.3f}",
                      _confidence(r.confidence, compact=True))
    console.print(table)
    console.print(f"$/Mtok at one price basis: {rows.price_basis}.")


def show_examples(examples: dict) -> None:
    """Print the built-in plan examples with what each answers."""
    table = Table("example", "what it answers", title="xpuplan plan --example NAME")
    for name, description in examples.items():
        table.add_row(name, description)
    console.print(table)


def show_plan(r) -> None:
    """KPIs first, then the arithmetic, then every table; ids whole, money as $38.0B; a
    table with more than WIDE_COLUMNS columns prints transposed (one column per row)."""
    from xpuplan.views.plan_tables import fmt_value, plan_tables

    console.print(f"[bold]{r.name}[/bold] ({r.kind}): {r.description}")
    tables = plan_tables(r)
    _records("kpis", [{"kpi": k["kpi"], "value": fmt_value(k["key"], k["value"])}
                      for k in tables.pop("kpis")])
    for i, line in enumerate(r.explain, 1):
        console.print(f"  {i}. {line}", markup=False, highlight=False)
    interval = r.interval
    _records("outputs", [{"output": row["output"], "value": fmt_value(row["output"],
                                                                      row["value"]),
                          "P10 - P90": "" if row["output"] not in interval else
                          f"{fmt_value(row['output'], interval[row['output']][0])} - "
                          f"{fmt_value(row['output'], interval[row['output']][2])}"}
                         for row in tables.pop("outputs")])
    tables.pop("interval", None)
    inputs = tables.pop("inputs")
    for name, rows in tables.items():
        _records(name, [{k: fmt_value(k, v) for k, v in row.items()} for row in rows])
    assumed = sum(1 for row in inputs if row["source"].startswith("assumed"))
    console.print(f"inputs: {len(inputs)} ({assumed} without a source); all with their "
                  "sources in --json / --csv / --report")

    if r.confidence:
        conf = Table(title="confidence of the predictions used")
        conf.add_column("prediction", no_wrap=True)
        conf.add_column("confidence", overflow="fold")
        for key, c in sorted(r.confidence.items()):
            conf.add_row(key, _confidence(c))
        console.print(conf)

WIDE_COLUMNS = 5


def _records(title: str, rows: list[dict]) -> None:
    """Rows as a table: the first column never wraps (ids are what users type)."""
    if not rows:
        return
    keys = list(dict.fromkeys(k for row in rows for k in row))
    if len(keys) > WIDE_COLUMNS and len(rows) <= WIDE_COLUMNS:
        heads = [str(row[keys[0]]) for row in rows]
        table = Table(title=title)
        table.add_column(keys[0], no_wrap=True)
        for h, row in zip(heads, rows, strict=True):
            cells = [len(str(row.get(k, ""))) for k in keys[1:]]
            table.add_column(h, overflow="fold", min_width=min(max([len(h), *cells]), 12))
        for k in keys[1:]:
            table.add_row(k, *[str(row.get(k, "")) for row in rows])
    else:
        table = Table(title=title)
        table.add_column(keys[0], no_wrap=True)
        for k in keys[1:]:
            longest = max(len(str(row.get(k, ""))) for row in rows)
            table.add_column(k, overflow="fold", min_width=min(longest, 10))
        for row in rows:
            table.add_row(*[str(row.get(k, "")) for k in keys])
    console.print(table)


def show_deals(rows: list[dict]) -> None:
    """Announced deals: ids whole, money as $38.0B, other cells wrap (fits 80 columns)."""
    table = Table(title="announced compute deals (--json: buyer, date, hardware, sources)")
    table.add_column("deal", no_wrap=True)
    table.add_column("seller", overflow="fold")
    table.add_column("value", no_wrap=True)
    table.add_column("years", no_wrap=True)
    table.add_column("GW", no_wrap=True)
    for d in rows:
        value = "-" if d["value_usd"] is None else fmt_usd(d["value_usd"])
        if d["investment_usd"] is not None:
            value = f"invest {fmt_usd(d['investment_usd'])}"
        table.add_row(d["id"], d["seller"], value,
                      "-" if d["years"] is None else f"{d['years']:g}",
                      "-" if d["gw"] is None else f"{d['gw']:g}")
    console.print(table)
