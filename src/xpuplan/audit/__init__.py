"""CUDA lock-in audit: what a codebase needs to leave NVIDIA, per target, in engineer-weeks.

Reading order: `findings` (the finding record and kinds), `rules` (data/audit_targets.toml:
what each symbol maps to on neuron / xla / rocm), `walk` (which files are read and why the
rest are skipped), the scanners `python_scan` (ast), `cxx_scan` (tree-sitter CUDA grammar),
`build_scan` (requirements, pyproject, setup.py, CMake, conda) and `env_scan` (shell, YAML,
Dockerfile), then `scan` (one pass over a tree), `effort` (data/audit_effort.toml:
engineer-weeks per finding), `result` (AuditResult and `run_audit`) and `cost` (an audit
as a plan's migration cost).

Imports: the standard library, tree-sitter, pyyaml, packaging, `xpuplan.errors` and
`xpuplan.catalog.records`; never the API, the plan layer or the CLI.
"""
