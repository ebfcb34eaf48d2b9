"""One cell = one `xpuplan.api` call, turned into one flat row.

A row has `cell_index` (position in the spec's order), `cell_key` (stable hash of the
inputs, what `--resume` matches), `error` (None, or the error text of a failed cell), the
inputs as `input/<axis>` (plan paths keep their dots: `input/vendors.1.shortfall`), and the
command's `--json` result flattened: nested dicts join their keys with "/"
(`breakdown_s/comm_tp`, `outputs/npv_cost_usd`); lists and empty dicts stay whole as
JSON text (`pareto`, `outputs/vendors`), since their length varies from cell to cell.
"""

from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass

from xpuplan import api
from xpuplan.errors import XpuplanError

SEP = "/"
INPUT = "input" + SEP
META = ("cell_index", "cell_key", "error")


@dataclass(frozen=True)
class Job:
    """What every cell of a sweep shares: the kind, the plan scenario and the catalog."""

    kind: str
    scenario: str | None = None  # as written in the spec (part of the cell key)
    base: dict | None = None  # plan: the scenario's inputs, before the cell's changes
    catalog_files: tuple[str, ...] | None = None


def cell_key(job: Job, inputs: dict) -> str:
    """sha256 of the canonical JSON of kind, scenario, catalog and inputs (first 16 hex)."""
    text = json.dumps({"kind": job.kind, "scenario": job.scenario,
                       "catalog": list(job.catalog_files or ()), "inputs": inputs},
                      sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def flatten(data: dict, prefix: str = "") -> dict:
    """Nested dicts to `a/b/c` keys; lists and empty dicts to JSON text."""
    out = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(flatten(value, name + SEP))
        elif isinstance(value, dict | list | tuple):
            out[name] = json.dumps(value, default=str)
        else:
            out[name] = value
    return out


def result(job: Job, inputs: dict) -> dict:
    """The single API call of a cell: what the command's `--json` prints for these inputs."""
    catalog = list(job.catalog_files) if job.catalog_files else None
    if job.kind == "train":
        return api.train(**inputs, catalog_files=catalog).to_dict()
    if job.kind == "infer":
        return api.infer(**inputs, catalog_files=catalog).to_dict()
    assert job.base is not None  # a plan job carries its spec's scenario
    scenario = copy.deepcopy(job.base)
    for path, value in inputs.items():
        set_path(scenario, path, value)
    return api.plan(scenario, catalog_files=catalog).to_dict()


def set_path(data: dict, path: str, value) -> None:
    """Set `a.b.0.c` in nested dicts and lists (paths checked by spec.check_path)."""
    *parents, last = path.split(".")
    node = data
    for part in parents:
        node = node[int(part)] if isinstance(node, list) else node[part]
    node[int(last) if isinstance(node, list) else last] = value


def run_cell(job: Job, index: int, inputs: dict) -> dict:
    """One row; a failing call records its error text instead of stopping the sweep."""
    row = {"cell_index": index, "cell_key": cell_key(job, inputs), "error": None,
           **flatten(inputs, INPUT)}
    try:
        row.update(flatten(result(job, inputs)))
    except XpuplanError as exc:
        row["error"] = str(exc)
    except Exception as exc:  # any other failure is that cell's result too, by design
        row["error"] = f"{type(exc).__name__}: {exc}"
    return row


def run_chunk(job: Job, cells: list[tuple[int, dict]]) -> list[dict]:
    """Rows of several cells (the unit a worker process or a Ray task runs)."""
    return [run_cell(job, index, inputs) for index, inputs in cells]

