"""Training memory check: every validation row's published layout, bytes per chip by part.

Evaluates each usable row of data/validation/train_measurements.csv (calibrate.train_set) at
its published layout with train.evaluate and prints the memory estimate per chip by part
(weights, grads, optimizer, activations, logits, reserved, GB; their sum is the HBM total)
against the chip's HBM, the ratio, the host memory holding offloaded activations (MaxText
offload policies, Megatron cpu_offloading_num_layers; not in the total), and a summary by
source group of the rows over HBM (the runs all ran, so an estimate over HBM is a fault of
the memory model or of the row's recorded settings).

    PYTHONPATH=src python scripts/memory_check.py [--over] [--source GROUP] [--json PATH]
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict

from xpuplan.calibrate.train_set import train_rows
from xpuplan.train.evaluate import evaluate

GB = 1e9
PARTS = ("weights", "grads", "optimizer", "activations", "logits", "reserved")


def row_memory(row) -> dict:
    """One row's memory parts (GB per chip), total, HBM and ratio."""
    ev = evaluate(row.problem, row.layout)
    parts = {p: float(ev.memory.get(f"mem/{p}", [0.0])[0]) / GB for p in PARTS}
    host = float(ev.extra["host_offload_bytes"][0]) / GB
    total = float(ev.memory_per_chip_bytes[0]) / GB
    hbm = row.problem.chip.hbm_bytes / GB
    lay = row.layout.row(0)
    return {"id": row.id, "source": row.source_group, "chip": row.problem.chip.id,
            "layout": (f"tp{lay['tp']} pp{lay['pp']} dp{lay['dp']} cp{lay['cp']} ep{lay['ep']}"
                       f" v{lay['vpp']} mb{lay['micro_batch']} z{lay['zero']} "
                       f"{lay['recompute'][:3]} f{lay['recompute_fraction']:.2f}"),
            **parts, "host": host, "total": total, "hbm": hbm, "ratio": total / hbm}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--over", action="store_true", help="print only rows over HBM")
    ap.add_argument("--source", help="only this source group")
    ap.add_argument("--json", help="write the rows as JSON here")
    args = ap.parse_args()
    rows, _ = train_rows()
    out = [row_memory(r) for r in rows if not args.source or r.source_group == args.source]
    head = f"{'id':44} {'chip':11} " + " ".join(f"{p[:5]:>6}" for p in PARTS)
    print(head + f" {'host':>6} {'total':>7} {'hbm':>6} {'ratio':>5}  layout")
    for m in sorted(out, key=lambda m: -m["ratio"]):
        if args.over and m["ratio"] <= 1:
            continue
        print(f"{m['id'][:44]:44} {m['chip'][:11]:11} "
              + " ".join(f"{m[p]:6.1f}" for p in PARTS)
              + f" {m['host']:6.1f} {m['total']:7.1f} {m['hbm']:6.0f} {m['ratio']:5.2f}  "
              + m["layout"])
    by = defaultdict(lambda: [0, 0, 0.0])
    for m in out:
        g = by[m["source"]]
        g[0] += 1
        g[1] += m["ratio"] > 1
        g[2] = max(g[2], m["ratio"])
    print(f"\n{'source':28} {'rows':>4} {'over':>4} {'worst':>6}")
    for src, (n, over, worst) in sorted(by.items(), key=lambda kv: (-kv[1][1], kv[0])):
        print(f"{src:28} {n:4d} {over:4d} {worst:6.2f}")
    print(f"{'all':28} {len(out):4d} {sum(g[1] for g in by.values()):4d}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(out, fh, indent=1)


if __name__ == "__main__":
    main()
