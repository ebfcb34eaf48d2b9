"""Python through `ast`: torch.cuda and friends, Triton and NVIDIA-DSL kernels, CUDA builds,
CUDA-only imports and CUDA environment variables.

Names resolve through the file's imports (`import torch as t; t.cuda.synchronize()` is
`torch.cuda.synchronize`). Each outermost dotted name counts once (`torch.backends.cudnn.
benchmark = True` is one finding, not three); decorators count as kernels, not as names.
The scanner's own symbols: `.cuda()` for tensor/module moves, `"cuda"` / `"cuda:N"` /
`"cuda:{}"` for device strings, `"nccl"` for the distributed backend.
"""

from __future__ import annotations

import ast
import re

from xpuplan.audit.findings import Finding, ScanError
from xpuplan.audit.rules import Rules

_DEVICE = re.compile(r"^cuda(:\d+)?$")
_ENV_CALLS = {"os.getenv", "os.environ.get", "os.environ.setdefault", "os.environ.pop",
              "os.putenv"}
NAME_KINDS = ("nvidia_dsl_kernels", "cuda_runtime_calls", "torch_cuda_calls")
DECORATOR_KINDS = ("triton_kernels", "nvidia_dsl_kernels")


def parse_python(text: str, path: str) -> ast.Module:
    """The module's AST, or ScanError with the line of the syntax error."""
    try:
        return ast.parse(text, filename=path)
    except (SyntaxError, ValueError) as exc:
        line = getattr(exc, "lineno", None)
        raise ScanError(f"line {line}: {getattr(exc, 'msg', exc)}" if line else str(exc)) \
            from None


def scan_python(path: str, tree: ast.Module, rules: Rules) -> list[Finding]:
    """Findings of one parsed Python module."""
    nodes = list(ast.walk(tree))
    aliases = _aliases(nodes)
    out: list[Finding] = []
    skip: set[int] = set()  # nodes already accounted for (inner names, decorators)

    def add(node: ast.expr | ast.stmt, kind_rule, symbol: str, loc: int | None = None) -> None:
        if kind_rule is not None:
            out.append(Finding(path, node.lineno, kind_rule.kind, symbol, kind_rule.id, loc))

    for node in nodes:
        _visit(node, aliases, rules, add, skip)
    for node in nodes:  # dotted names last: the visit marks the inner parts to skip
        if isinstance(node, (ast.Attribute, ast.Name)) and id(node) not in skip:
            name = _dotted(node, aliases)
            if name and "." in name:
                add(node, rules.classify(NAME_KINDS, "py", name), name)
    return out


def _visit(node: ast.AST, aliases, rules: Rules, add, skip: set[int]) -> None:
    """The findings of one node other than dotted names (kernels, imports, calls, strings)."""
    if isinstance(node, ast.Attribute):
        skip.add(id(node.value))
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
        _kernel(node, aliases, rules, add, skip)
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        for module in _imported(node):
            pkg = module.split(".")[0].lower().replace("_", "-")
            add(node, rules.classify(("cuda_only_packages",), "pkg", pkg), pkg)
    elif isinstance(node, ast.Call):
        _call(node, aliases, rules, add, skip)
    elif isinstance(node, ast.Subscript):
        if _dotted(node.value, aliases) == "os.environ":
            _env(node, node.slice, rules, add)
    elif isinstance(node, ast.Constant) and isinstance(node.value, str):
        _string(node, node.value, rules, add)
    elif isinstance(node, ast.JoinedStr):
        _device_fstring(node, rules, add)


def _device_fstring(node: ast.JoinedStr, rules: Rules, add) -> None:
    """f"cuda:{i}": a device string like "cuda:N"."""
    first = node.values[0] if node.values else None
    if isinstance(first, ast.Constant) and first.value == "cuda:" and len(node.values) == 2:
        add(node, rules.classify(("torch_cuda_calls",), "py", '"cuda:{}"'), '"cuda:{}"')


def _kernel(node, aliases, rules, add, skip) -> None:
    """A function with a Triton / NVIDIA-DSL decorator is one kernel of its own length."""
    for deco in node.decorator_list:
        target = deco.func if isinstance(deco, ast.Call) else deco
        skip.update(id(n) for n in ast.walk(deco))
        rule = rules.classify(DECORATOR_KINDS, "py", _dotted(target, aliases) or "")
        if rule:
            add(node, rule, node.name, loc=node.end_lineno - node.lineno + 1)
            return


def _call(node: ast.Call, aliases, rules, add, skip) -> None:
    func = node.func
    if isinstance(func, ast.Attribute) and func.attr == "cuda":
        if _dotted(func, aliases) != "torch.cuda":
            skip.add(id(func))
            add(node, rules.classify(("torch_cuda_calls",), "py", ".cuda()"), ".cuda()")
        return
    name = _dotted(func, aliases)
    if name is None:
        return
    if name in _ENV_CALLS and node.args:
        _env(node, node.args[0], rules, add)
        return
    rule = rules.classify(("cuda_extension_builds",), "py", name)
    if rule and _builds_cuda(name, node):
        skip.add(id(func))
        add(node, rule, name.rsplit(".", 1)[-1])


def _builds_cuda(name: str, node: ast.Call) -> bool:
    """CUDAExtension always; cpp_extension.load / load_inline only with CUDA sources."""
    if name.endswith("CUDAExtension"):
        return True
    keywords = {k.arg for k in node.keywords}
    if "cuda_sources" in keywords:
        return True
    strings = [n.value for n in ast.walk(node)
               if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return any(s.endswith((".cu", ".cuh")) for s in strings)


def _env(node, key, rules, add) -> None:
    if isinstance(key, ast.Constant) and isinstance(key.value, str):
        add(node, rules.classify(("cuda_env_vars",), "env", key.value), key.value)


def _string(node, value: str, rules, add) -> None:
    if _DEVICE.match(value):
        symbol = f'"{value}"'
    elif value == "nccl":
        symbol = '"nccl"'
    else:
        return
    add(node, rules.classify(("torch_cuda_calls",), "py", symbol), symbol)


def _aliases(nodes: list[ast.AST]) -> dict[str, str]:
    """Local name -> dotted module path, from every import in the file."""
    out: dict[str, str] = {}
    for node in nodes:
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.asname:
                    out[a.asname] = a.name
                else:
                    root = a.name.split(".")[0]
                    out[root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for a in node.names:
                out[a.asname or a.name] = f"{node.module}.{a.name}"
    return out


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    if isinstance(node, ast.Import):
        return [a.name for a in node.names]
    return [node.module] if node.module and not node.level else []


def _dotted(node: ast.AST, aliases: dict[str, str]) -> str | None:
    """`a.b.c` with `a` resolved through the imports; None for anything but names."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    parts.append(aliases.get(node.id, node.id))
    return ".".join(reversed(parts))
