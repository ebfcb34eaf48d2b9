"""Host time that a decode step can wait for: kernel launches when the engine runs eager, and
the serial per-step CPU work of an engine that schedules between steps (vLLM V0).

With CUDA/HIP graphs an engine replays a whole decode step with one launch; without them
(vLLM `--enforce-eager`) PyTorch launches every kernel of every layer from the host each
step. Launches are asynchronous, so the device runs behind the host: a step lasts
max(t_device, t_launch), the host's launches bound it only when they take longer
(PyTorch, 'Accelerating PyTorch with CUDA Graphs', 2021: graphs remove the CPU launch
overhead that leaves the GPU idle between short kernels). The figures (kernels per layer,
host time per launch) are the serving stack's (data/stacks.toml `eager_*`).

vLLM's V0 engine runs each step's scheduling, input preparation (prepare_model_input),
sampling and output processing on the CPU between the device's steps, for every running
sequence (vLLM v0.6.0 blog, 2024-09-05, 'Performance Diagnosis'; RFC #6854: the GPU idles
5-13 ms per decode step), unless multi-step scheduling (--num-scheduler-steps n) runs n steps
per scheduler call and so pays it once per n steps (PR #7000). V1 cut that work but still
runs its scheduler (schedule, update_from_output) between two device steps: only its opt-in
asynchronous scheduler overlaps it with the step (vLLM PR #19970, 2025-06-23; issue #26114,
2025-10-02: update_from_output 'is running on critical path ... GPU stays idle during the
run'); at a batch of 256 the V1 engine left a 5-6 ms gap between decode steps (issue #10634,
2024-11-25), about 21 µs per running sequence against V0's 99. The figures are the stack's
(data/stacks.toml `serial_host_*`); with async scheduling the device does not wait for them
(serve/step.py DecodeStage.host_wait).
"""

from __future__ import annotations

import numpy as np


def eager_launch_time(n_layers, kernels_per_layer: int, launch_s: float) -> np.ndarray:
    """Host time to launch one eager decode step of a stage's layers, s.

    t_launch = L·k·t_k: L layers of the stage, k kernels each, t_k the host time per launch
    (PyTorch dispatch + driver launch). Neglects the embedding, final norm, LM head and
    sampling kernels (a handful per step against L·k) and the prefill's launches (its
    kernels are long, so the device hides them).
    """
    return np.asarray(n_layers, dtype=float) * kernels_per_layer * launch_s


def launch_wait(t_device, t_launch) -> np.ndarray:
    """Time a step waits for the host's launches beyond the device's own work, s.

    max(0, t_launch − t_device): launches overlap the device (asynchronous streams), so
    t_step = max(t_device, t_launch) = t_device + launch_wait.
    """
    return np.maximum(0.0, np.asarray(t_launch) - t_device)


def serial_host_time(step_s: float, per_seq_s: float, batch, scheduler_steps: int
                     ) -> np.ndarray:
    """Serial host time a decode step waits for between two device steps, s.

    t_serial = (t_0 + B·t_s) / n: t_0 the host work per scheduler call, t_s its part per
    running sequence (scheduling, input preparation, sampling, output processing), B the
    running sequences, n the decode steps one scheduler call runs (vLLM V0
    --num-scheduler-steps). Neglects the part of multi-step's output processing that still
    runs every step, and the overlap of V0's asynchronous output processor (on only with
    CUDA/HIP graphs) with the next step.
    """
    return (step_s + per_seq_s * np.asarray(batch, dtype=float)) / scheduler_steps
