"""The serving calibration grid: predictions of every row at every parameter setting.

Shared axis: the collective latency scale. Group axis: (compute_scale, memory_scale,
per-step overhead, per-sequence overhead): a stack's host costs are its own, like its kernels.
The fit and leave-one-source-out logic is the training one (calibrate.calibrate), which
only needs predictions shaped (rows, shared settings, group settings).
"""

from __future__ import annotations

import itertools
from dataclasses import replace

import numpy as np

from xpuplan.calibrate.calibrate import Grid
from xpuplan.calibrate.infer_set import InferRow, predict_row
from xpuplan.specs.samples import Samples

COMPUTE_GRID = np.geomspace(0.2, 2.0, 21)
# Decode reads cannot beat the HBM peak: memory_scale · η_stream ≤ 1 (η_stream ≈ 0.77-0.89).
MEMORY_GRID = np.geomspace(0.3, 1.15, 21)
# Fixed overhead: per decode step (host, stacks.toml fixed_overhead_per = "step"), and on the
# same axis per decoder layer (device, "layer": serve.step.fixed_device_time), the step's
# figure spread over the 80 layers of a 70B (Llama 2/3 70B) so that one setting is the same
# fixed time for a 70B on either kind of stack; a group's setting gives both.
OVERHEAD_GRID_S = (0.0, 1e-4, 3e-4, 1e-3, 2e-3, 4e-3, 8e-3, 16e-3)
LAYER_OVERHEAD_GRID_S = (0.0, 1.25e-6, 3.75e-6, 12.5e-6, 25e-6, 50e-6, 100e-6, 200e-6)
LAYER_OVERHEAD_S = dict(zip(OVERHEAD_GRID_S, LAYER_OVERHEAD_GRID_S, strict=True))
# Host time per running sequence per step (serve.step.host_step_time).
SEQ_OVERHEAD_GRID_S = (0.0, 2e-6, 4e-6, 8e-6, 16e-6, 32e-6, 64e-6)
LATENCY_SCALE_GRID = (0.1, 0.25, 0.5, 1.0)
SHARED_GRID = LATENCY_SCALE_GRID
VENDOR_GRID = tuple(itertools.product(COMPUTE_GRID, MEMORY_GRID, OVERHEAD_GRID_S,
                                      SEQ_OVERHEAD_GRID_S))
# Free bounds (a failed fit when reached): both ends of the compute scale, the memory scale's
# floor, the overheads' ceilings and the latency scale's floor. Physical ones: zero overheads,
# the memory ceiling (reads at the HBM peak) and latency x1 (nccl-tests' own α).
SERVE_GROUP_GRID = Grid(("compute_scale", "memory_scale", "step_overhead_s", "seq_overhead_s"),
                        (tuple(COMPUTE_GRID), tuple(MEMORY_GRID), OVERHEAD_GRID_S,
                         SEQ_OVERHEAD_GRID_S),
                        (True, True, False, False), (True, False, True, True))
SERVE_SHARED_GRID = Grid(("latency_scale",), (LATENCY_SCALE_GRID,), (True,), (False,))


def prediction_matrix(rows: list[InferRow]) -> np.ndarray:
    """Each row's predicted target, shape (n_rows, n_shared_settings, n_vendor_settings):
    the group settings are one sample axis (specs.samples), the shared ones a loop."""
    c, m, overhead, per_seq = (np.array([v[k] for v in VENDOR_GRID]) for k in range(4))
    samples = Samples(compute_scale=c, memory_scale=m, step_overhead_s=overhead,
                      layer_overhead_s=np.array([LAYER_OVERHEAD_S[o] for o in overhead]),
                      seq_overhead_s=per_seq)
    out = np.empty((len(rows), len(SHARED_GRID), len(VENDOR_GRID)))
    for i, row in enumerate(rows):
        for j, latency in enumerate(SHARED_GRID):
            cal = replace(row.problem.calibration, latency_scale=latency)
            out[i, j] = predict_row(replace(row, problem=replace(row.problem, calibration=cal)),
                                    samples)
    return out
