"""One finding: a CUDA-specific construct at a path and line, and the finding kinds.

Kinds are the JSON `counts` keys; `cuda_kernel_loc` is derived (the kernels' lines of code).
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = (
    "cuda_source_files",  # .cu / .cuh files
    "cuda_kernels",  # __global__ and __device__ function definitions
    "kernel_launches",  # <<<grid, block>>> launches
    "warp_intrinsics",  # __shfl*_sync, __ballot_sync, cooperative groups
    "inline_ptx",  # asm(...) in CUDA code
    "tensor_core_api",  # WMMA, CUTLASS, CuTe
    "cuda_runtime_calls",  # cudaX / cuX / nvrtc, at::cuda, Python CUDA bindings
    "cuda_library_calls",  # cuBLAS(Lt), cuDNN, NCCL, cuSPARSE, cuFFT, cuRAND, CUB, Thrust
    "triton_kernels",  # @triton.jit functions
    "nvidia_dsl_kernels",  # CuTe DSL, Numba CUDA, CuPy raw kernels, NVIDIA Warp
    "torch_cuda_calls",  # torch.cuda.*, .cuda(), "cuda" devices, cudnn flags, "nccl" backend
    "cuda_only_packages",  # flash-attn, apex, transformer-engine, nvidia-* wheels, ...
    "cuda_env_vars",  # NCCL_*, CUDA_* and friends in shell, YAML, Dockerfiles, os.environ
    "cuda_extension_builds",  # CUDAExtension / cpp_extension.load, CMake CUDA language
)
KERNEL_KINDS = ("cuda_kernels", "triton_kernels", "nvidia_dsl_kernels")
STATUSES = ("portable", "drop_in", "port", "rewrite")


@dataclass(frozen=True)
class Finding:
    """A construct the scanners found; `rule` is the audit_targets.toml rule it matched."""

    path: str  # relative to the audited root, POSIX separators
    line: int  # 1-based
    kind: str
    symbol: str
    rule: str
    loc: int | None = None  # lines of code, for kernels


class ScanError(Exception):
    """A file that does not parse: counted and reported by the scan, never fatal."""
