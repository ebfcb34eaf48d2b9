"""Fixture trees written into a directory by the tests (no network, no checked-in trees)."""

from __future__ import annotations

from pathlib import Path

TORCH_EXT_MODEL = '''import os
import torch
import triton
import triton.language as tl
from torch.utils.cpp_extension import load

os.environ["NCCL_DEBUG"] = "INFO"


@triton.jit
def add_kernel(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
    pid = tl.program_id(0)
    offs = pid * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n
    x = tl.load(x_ptr + offs, mask=mask)
    tl.store(y_ptr + offs, x, mask=mask)


ext = load(name="fused", sources=["csrc/fused.cu"])


class Model(torch.nn.Module):
    def forward(self, x):
        return ext.fused(x)


def main():
    torch.backends.cudnn.benchmark = True
    model = Model().cuda()
    x = torch.randn(4, device="cuda")
    torch.cuda.synchronize()
    torch.distributed.init_process_group(backend="nccl")
    return model(x)
'''

FUSED_CU = '''#include <cuda_runtime.h>
#include <torch/extension.h>

__device__ float warp_sum(float v) {
  for (int o = 16; o > 0; o /= 2) v += __shfl_down_sync(0xffffffff, v, o);
  return v;
}

__global__ void fused_kernel(const float* x, float* y, int n) {
  int i = blockIdx.x * blockDim.x + threadIdx.x;
  if (i < n) y[i] = warp_sum(x[i]);
}

torch::Tensor fused(torch::Tensor x) {
  auto y = torch::empty_like(x);
  int n = x.numel();
  fused_kernel<<<(n + 255) / 256, 256>>>(x.data_ptr<float>(), y.data_ptr<float>(), n);
  cudaDeviceSynchronize();
  return y;
}
'''

SETUP_PY = '''from setuptools import setup
from torch.utils.cpp_extension import BuildExtension, CUDAExtension

setup(name="fused", ext_modules=[CUDAExtension("fused", ["csrc/fused.cu"])],
      cmdclass={"build_ext": BuildExtension}, install_requires=["apex"])
'''

TRAIN_SH = '''#!/bin/bash
export CUDA_VISIBLE_DEVICES=0,1
NCCL_P2P_DISABLE=1 torchrun model.py  # two GPUs
echo $HOME
'''

PURE_TORCH = '''import torch


def train():
    device = "cuda" if torch.cuda.is_available() else "cpu"
    model = torch.nn.Linear(4, 4).to(device)
    return model
'''

JAX_MODEL = '''import jax
import jax.numpy as jnp


def loss(w, x):
    return jnp.mean((x @ w) ** 2)


grad = jax.jit(jax.grad(loss))
'''

JAX_CONFIG = '''env:
  XLA_PYTHON_CLIENT_MEM_FRACTION: "0.9"
  CUDA_VISIBLE_DEVICES: "0"
steps:
  - run: |
      export NCCL_DEBUG=INFO
      python train.py
'''


def write(root: Path, files: dict[str, str | bytes]) -> Path:
    for rel, content in files.items():
        p = root / rel
        p.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            p.write_bytes(content)
        else:
            p.write_text(content)
    return root


def torch_ext_tree(root: Path) -> Path:
    """A PyTorch model with a custom CUDA extension, a Triton kernel, build and run files."""
    return write(root, {
        "model.py": TORCH_EXT_MODEL, "csrc/fused.cu": FUSED_CU, "setup.py": SETUP_PY,
        "requirements.txt": "torch>=2.1\nflash-attn==2.5.8\ntriton\n", "train.sh": TRAIN_SH,
        "weights.bin": b"\x00\x01binary", "third_party/cutlass/gemm.cu": FUSED_CU,
        "README.md": "# model\n"})


def pure_torch_tree(root: Path) -> Path:
    return write(root, {"train.py": PURE_TORCH, "requirements.txt": "torch\nnumpy\n"})


def jax_tree(root: Path) -> Path:
    return write(root, {"model.py": JAX_MODEL, "requirements.txt": "jax[cuda12]==0.4.30\n",
                        "config.yaml": JAX_CONFIG})


def kernel_source(name: str, body_lines: int) -> str:
    """A .cu file with one __global__ kernel of 2 + body_lines lines and one launch."""
    body = "\n".join(f"  y[i] += x[i] * {k};" for k in range(body_lines))
    return (f"__global__ void {name}(const float* x, float* y, int n) {{\n  int i = "
            f"threadIdx.x;\n{body}\n}}\n\nvoid run_{name}(const float* x, float* y, int n) {{\n"
            f"  {name}<<<1, 32>>>(x, y, n);\n}}\n")


def torch_calls_source(device_strings: int, cuda_calls: int) -> str:
    """Python with `device_strings` "cuda" literals and `cuda_calls` torch.cuda calls."""
    lines = ["import torch", ""]
    lines += [f'x{k} = torch.zeros(1, device="cuda")' for k in range(device_strings)]
    lines += ["torch.cuda.synchronize()" for _ in range(cuda_calls)]
    return "\n".join(lines) + "\n"
