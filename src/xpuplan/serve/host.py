"""Host time that a decode step can wait for: kernel launches when the engine runs eager.

With CUDA/HIP graphs an engine replays a whole decode step with one launch; without them
(vLLM `--enforce-eager`) PyTorch launches every kernel of every layer from the host each
step. Launches are asynchronous, so the device runs behind the host: a step lasts
max(t_device, t_launch), the host's launches bound it only when they take longer
(PyTorch, 'Accelerating PyTorch with CUDA Graphs', 2021: graphs remove the CPU launch
overhead that leaves the GPU idle between short kernels). The figures (kernels per layer,
host time per launch) are the serving stack's (data/stacks.toml `eager_*`).
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
