"""Sweeps: one API call per cell of a grid (or a random sample) of inputs, rows to Parquet.

A spec (YAML) names a kind (`train`, `infer`, or `plan` with a scenario) and its axes; the
cells are the product of the axes, crossed with sampled points when `sample` is given. Each
cell is one `xpuplan.api` call; its row holds the inputs and the command's `--json` result
flattened into `parent/child` columns, or the error text (a failing cell never stops a sweep).

Files in reading order:
- `spec.py`: the spec (pydantic), its validation and the deterministic cell expansion.
- `cells.py`: one cell = one API call; flattening; the stable cell key.
- `local.py`: cells on a local process pool (`concurrent.futures`).
- `ray_runner.py`: the same cells as Ray tasks (optional extra `xpuplan[ray]`).
- `store.py`: rows streamed to a Parquet dataset, one file per batch; resume.
- `run.py`: spec -> cells -> runner -> store, with the progress bar.
- `summary.py`: best chip per model by cost and by time; the cost-vs-time frontier chart.

Imports `xpuplan.api`, `xpuplan.errors` and `xpuplan.units` only.
"""

from xpuplan.sweep import summary
from xpuplan.sweep.run import Interrupted, ProgressBar, SweepReport, run_sweep
from xpuplan.sweep.spec import SweepSpec, load_spec, spec_from_dict
from xpuplan.sweep.store import read_results
from xpuplan.sweep.summary import SweepSummary, summarize, summary_tables

__all__ = ["Interrupted", "ProgressBar", "SweepReport", "SweepSpec", "SweepSummary", "load_spec",
           "read_results", "run_sweep", "spec_from_dict", "summarize", "summary",
           "summary_tables"]
