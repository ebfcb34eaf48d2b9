"""The machine a benchmark ran on, printed beside its figures: CPU, cores, Python, numpy BLAS."""

from __future__ import annotations

import os
import platform

import numpy as np


def cpu_model() -> str:
    """The CPU's model name from /proc/cpuinfo, else what platform reports."""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def machine_line() -> str:
    """One line: CPU model, logical cores, Python and numpy versions and numpy's BLAS."""
    config = np.show_config(mode="dicts") or {}
    blas = config.get("Build Dependencies", {}).get("blas", {}).get("name", "unknown")
    return (f"machine: {cpu_model()}, {os.cpu_count()} logical cores, Python "
            f"{platform.python_version()}, numpy {np.__version__} ({blas})")
