"""Exact counts on fixture trees written by the tests, and the scanners one by one."""

from __future__ import annotations

import json

from tests.audit.trees import jax_tree, pure_torch_tree, torch_ext_tree

from xpuplan import api
from xpuplan.audit.build_scan import scan_cmake
from xpuplan.audit.effort import load_effort
from xpuplan.audit.rules import load_rules


def nonzero(counts: dict) -> dict:
    return {k: v for k, v in counts.items() if v}


def test_torch_extension_tree_counts(tmp_path):
    r = api.audit(torch_ext_tree(tmp_path))
    assert r.files_scanned == 5  # model.py, fused.cu, setup.py, requirements.txt, train.sh
    assert r.files_skipped == {"binary": 1, "other": 1, "vendored": 1}
    assert nonzero(r.counts) == {
        "cuda_source_files": 1, "cuda_kernels": 2, "cuda_kernel_loc": 8,
        "kernel_launches": 1, "warp_intrinsics": 1, "cuda_runtime_calls": 1,
        "triton_kernels": 1,
        # cudnn.benchmark, .cuda(), device="cuda", torch.cuda.synchronize, backend="nccl"
        "torch_cuda_calls": 5,
        "cuda_only_packages": 2,  # flash-attn (requirements), apex (setup.py)
        "cuda_env_vars": 3,  # NCCL_DEBUG (os.environ), CUDA_VISIBLE_DEVICES, NCCL_P2P_DISABLE
        "cuda_extension_builds": 2,  # cpp_extension.load of a .cu, CUDAExtension
    }
    by = {(f.kind, f.symbol): f for f in r.findings}
    assert by[("triton_kernels", "add_kernel")].loc == 6 and by[("triton_kernels",
                                                                 "add_kernel")].line == 11
    assert by[("cuda_kernels", "__global__ fused_kernel")].line == 9
    assert by[("kernel_launches", "fused_kernel")].line == 17
    assert by[("cuda_env_vars", "NCCL_P2P_DISABLE")].path == "train.sh"
    assert {f.symbol for f in r.findings if f.kind == "torch_cuda_calls"} == {
        "torch.backends.cudnn.benchmark", ".cuda()", '"cuda"', "torch.cuda.synchronize",
        '"nccl"'}


def test_pure_torch_tree_counts(tmp_path):
    r = api.audit(pure_torch_tree(tmp_path))
    assert r.files_scanned == 2
    assert nonzero(r.counts) == {"torch_cuda_calls": 2}  # "cuda", torch.cuda.is_available
    assert r.effort["rocm"].engineer_weeks == {"low": 0, "mid": 0, "high": 0}
    # neuron: two drop-in sites at the torch_cuda_calls drop_in weeks each
    per_site = load_effort().records["torch_cuda_calls"].weeks["drop_in"]
    assert r.effort["neuron"].engineer_weeks["mid"] == 2 * per_site[1]


def test_jax_tree_counts_and_yaml_lines(tmp_path):
    r = api.audit(jax_tree(tmp_path))
    assert nonzero(r.counts) == {"cuda_only_packages": 1, "cuda_env_vars": 2}
    lines = {f.symbol: f.line for f in r.findings if f.kind == "cuda_env_vars"}
    assert lines == {"CUDA_VISIBLE_DEVICES": 3, "NCCL_DEBUG": 6}
    assert [f.symbol for f in r.findings if f.kind == "cuda_only_packages"] == ["jax[cuda12]"]


def test_statuses_come_from_the_targets_file(tmp_path):
    r = api.audit(torch_ext_tree(tmp_path))
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    rules = load_rules()
    for f in d["findings"]:
        for t in ("neuron", "xla", "rocm"):
            offer = rules.by_id[f["rule"]].offers[t]
            assert f[t] == {"status": offer.status, "replacement": offer.replacement,
                            "docs": offer.docs}
    kernel = next(f for f in d["findings"] if f["kind"] == "cuda_kernels")
    assert kernel["rocm"]["status"] == "port" and kernel["neuron"]["status"] == "rewrite"


def test_parts_sum_to_total_and_cost_is_weeks_times_rate(tmp_path):
    r = api.audit(torch_ext_tree(tmp_path), usd_per_engineer_week=5000.0)
    for t in r.targets:
        e = r.effort[t]
        for level in ("low", "mid", "high"):
            assert abs(sum(v[level] for v in e.by_kind.values())
                       - e.engineer_weeks[level]) < 1e-9
            assert r.migration_cost_usd(t)[level] == e.engineer_weeks[level] * 5000.0
        assert e.engineer_weeks["low"] <= e.engineer_weeks["mid"] <= e.engineer_weeks["high"]
        assert len(e.top_items) <= 10


def test_default_engineer_week_is_the_bls_formula():
    m = load_effort()
    import tomllib

    from xpuplan.catalog.hardware import builtin_file

    cost = tomllib.loads(builtin_file("audit_effort.toml").read_text())["engineer_cost"]
    assert m.usd_per_engineer_week == (cost["annual_wage_usd"]
                                       / cost["wage_share_of_compensation"]
                                       / cost["weeks_per_year"])


def test_cmake_commands_with_cuda():
    text = ('project(x LANGUAGES CXX CUDA)\nset(CMAKE_CUDA_ARCHITECTURES 80) # a comment\n'
            'add_library(k kernel.cu)\ntarget_link_libraries(k CUDA::cublas)\n'
            'message("no cuda here")\n# find_package(CUDAToolkit)\n')
    found = scan_cmake("CMakeLists.txt", text, load_rules())
    assert [(f.line, f.symbol) for f in found] == [
        (1, "project(CUDA)"), (2, "set(CMAKE_CUDA_ARCHITECTURES)"), (3, "add_library(kernel.cu)"),
        (4, "target_link_libraries(CUDA::cublas)")]


def test_own_helpers_and_own_packages_are_not_cuda(tmp_path):
    """A tree's own cudaCheck macro and its own flash_attn package are not CUDA findings."""
    from tests.audit.trees import write

    write(tmp_path, {
        "common.h": "#define cudaCheck(e) (check(e))\n",
        "k.cu": "void f(float* p) { cudaCheck(cudaMalloc(&p, 4)); }\n",
        "flash_attn/__init__.py": "", "flash_attn/ops.py": "import flash_attn\n"})
    r = api.audit(tmp_path)
    assert [f.symbol for f in r.findings if f.kind == "cuda_runtime_calls"] == ["cudaMalloc"]
    assert r.counts["cuda_only_packages"] == 0


def test_every_rule_and_effort_record_is_sourced():
    rules = load_rules()
    assert all(r.source for r in rules.rules)
    for rec in load_effort().records.values():
        assert rec.source and (not rec.assumption or rec.rationale)


def test_kernel_names_through_pointer_and_reference_returns():
    from xpuplan.audit.cxx_scan import scan_cxx

    src = (b"struct P { __device__ float& operator[](int i) { return x[i]; } float x[4]; };\n"
           b"__device__ float& vec_at(float4& v, int i) { return v.x; }\n"
           b"template <int N> __global__ void __launch_bounds__(128) k(const float* p) {}\n"
           b'__device__ void ptx() { asm volatile("{\\n .reg .pred p;\\n mma.sync.aligned.m16n8k16'
           b'.row.col.f32 {%0}, {%1}, {%2}, {%3};\\n}" : : "r"(0)); }\n')
    found = scan_cxx("a.h", src, load_rules(), is_cuda_file=False).findings
    assert sorted(f.symbol for f in found if f.kind == "cuda_kernels") == [
        "__device__ operator[]", "__device__ ptx", "__device__ vec_at", "__global__ k"]
    assert [f.symbol for f in found if f.kind == "inline_ptx"] == ["mma.sync"]
    assert not [f for f in found if f.kind == "cuda_source_files"]  # a header, not a .cu


def test_pyproject_conda_dockerfile_and_wheel_index(tmp_path):
    from tests.audit.trees import write

    write(tmp_path, {
        "pyproject.toml": '[project]\nname = "m"\ndependencies = ["torch", "xformers>=0.0.27"]\n'
                          '[project.optional-dependencies]\ngpu = ["nvidia-nccl-cu12"]\n',
        "environment.yml": "name: m\ndependencies:\n  - pytorch-cuda=12.1\n  - numpy\n"
                           "  - pip:\n      - bitsandbytes==0.43.1\n",
        "Dockerfile": "FROM ubuntu\nENV NCCL_DEBUG INFO\nRUN echo $CUDA_HOME \\\n  && ls\n",
        "requirements/gpu.txt": "--extra-index-url https://example.org/whl/cu121\n"
                                "torch==2.3.0+cu121\n"})
    r = api.audit(tmp_path)
    got = sorted((f.path, f.line, f.symbol) for f in r.findings)
    assert got == [
        ("Dockerfile", 2, "NCCL_DEBUG"), ("Dockerfile", 3, "CUDA_HOME"),
        ("environment.yml", 3, "pytorch-cuda"), ("environment.yml", 6, "bitsandbytes"),
        ("pyproject.toml", 3, "xformers"), ("pyproject.toml", 5, "nvidia-nccl-cu12"),
        ("requirements/gpu.txt", 1, "cuda-wheel-index"), ("requirements/gpu.txt", 2, "torch+cu")]
