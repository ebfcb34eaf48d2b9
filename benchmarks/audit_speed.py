"""Benchmark: `xpuplan audit` files per second on a generated 10,000-file tree, one core.

Run: python benchmarks/audit_speed.py [N_FILES]
The tree mixes what a training repository holds: Python models with torch.cuda calls and
Triton kernels (40%), CUDA sources with kernels, launches and cuBLAS/NCCL calls (20%), C++
headers (10%), shell and YAML configs with NCCL/CUDA variables (20%), requirements and text
(10%). Issue #16 asks for 10,000 files "well under a minute on one core".
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from machine import machine_line  # benchmarks/machine.py, beside this script

from xpuplan import api

PY = '''import torch
import triton
import triton.language as tl


@triton.jit
def k{i}(x_ptr, n, BLOCK: tl.constexpr):
    offs = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    tl.store(x_ptr + offs, tl.load(x_ptr + offs) * 2, mask=offs < n)


class Block{i}(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.lin = torch.nn.Linear(64, 64)

    def forward(self, x):
        torch.cuda.synchronize()
        return self.lin(x.cuda())
''' + "\n".join(f"# filler line {j} of a typical module" for j in range(60)) + "\n"
CU = '''#include <cublas_v2.h>
#include <nccl.h>
__global__ void kernel{i}(const float* x, float* y, int n) {{
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  float v = __shfl_xor_sync(0xffffffff, x[i], 1);
  if (i < n) y[i] = v * 2.0f;
}}
void run{i}(cublasHandle_t h, ncclComm_t c, float* x, float* y, int n) {{
  kernel{i}<<<(n + 255) / 256, 256>>>(x, y, n);
  cudaDeviceSynchronize();
  cublasSscal(h, n, nullptr, y, 1);
  ncclAllReduce(x, y, n, ncclFloat, ncclSum, c, 0);
}}
''' + "\n".join(f"// filler line {j}" for j in range(60)) + "\n"
HPP = "#pragma once\n" + "\n".join(f"inline int helper{{i}}_{j}(int x) {{ return x + {j}; }}"
                                   for j in range(40)) + "\n"
SH = "#!/bin/bash\nexport NCCL_DEBUG=INFO\nCUDA_VISIBLE_DEVICES=0,1 torchrun train.py\n"
YAML = "env:\n  NCCL_IB_DISABLE: '1'\n  OTHER: x\nsteps:\n  - run: echo $CUDA_HOME\n"
REQ = "torch>=2.3\nflash-attn==2.6.3\nnumpy\n"


def make_tree(root: Path, n: int) -> None:
    kinds = [("py", PY)] * 4 + [("cu", CU)] * 2 + [("hpp", HPP)] + [("sh", SH), ("yaml", YAML)] \
        + [("txt", REQ)]
    for i in range(n):
        ext, template = kinds[i % len(kinds)]
        d = root / f"pkg{i // 500}"
        d.mkdir(exist_ok=True)
        name = f"requirements-{i}.txt" if ext == "txt" else f"f{i}.{ext}"
        (d / name).write_text(template.replace("{i}", str(i)) if ext in ("py", "hpp")
                              else template.format(i=i) if ext == "cu" else template)


def main() -> None:
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    with tempfile.TemporaryDirectory() as d:
        make_tree(Path(d), n)
        start = time.perf_counter()
        r = api.audit(d)
        elapsed = time.perf_counter() - start
    print(f"{machine_line()}; one process")
    print(f"audited {r.files_scanned:,} files in {elapsed:.1f} s = "
          f"{r.files_scanned / elapsed:,.0f} files/s; {len(r.findings):,} findings; "
          f"neuron {r.effort['neuron'].engineer_weeks['mid']:,.0f} engineer-weeks (mid)")


if __name__ == "__main__":
    main()
