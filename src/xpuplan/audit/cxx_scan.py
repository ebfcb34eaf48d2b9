"""C, C++ and CUDA through tree-sitter (the tree-sitter-cuda grammar).

The CUDA grammar extends the C++ grammar, so one parser reads .cu/.cuh and plain C++ alike;
that matters because kernel libraries keep `__global__` kernels in .h headers. Found:
`__global__` / `__device__` definitions with their lines, `<<<...>>>` launches, calls and
qualified names matched against the rules (warp intrinsics, tensor-core APIs, CUDA runtime and
libraries), and inline `asm` in CUDA code (a .cu/.cuh file or one defining device functions).
A tree with ERROR nodes still yields its findings; `partial` reports its first error line.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from xpuplan.audit.findings import Finding
from xpuplan.audit.rules import Rules

NAME_KINDS = ("warp_intrinsics", "tensor_core_api", "cuda_library_calls", "cuda_runtime_calls")
_QUERY = """
(function_definition) @fn
(call_expression) @call
(gnu_asm_expression) @asm
(qualified_identifier) @qid
(using_declaration) @using
(ERROR) @error
(preproc_function_def name: (identifier) @macro)
(preproc_def name: (identifier) @macro)
"""
_QUALIFIERS = ("__global__", "__device__")


@dataclass
class CxxScan:
    """Scan of one C++/CUDA file: findings, first parse error, names it defines."""
    findings: list[Finding]
    first_error_line: int | None  # None when the tree has no ERROR node
    defined: set[str]  # functions and macros this file defines (cudaCheck is not CUDA's)


@lru_cache(maxsize=1)
def _parser():
    import tree_sitter as ts
    import tree_sitter_cuda

    lang = ts.Language(tree_sitter_cuda.language())
    return ts.Parser(lang), ts.Query(lang, _QUERY), ts.QueryCursor


def scan_cxx(path: str, source: bytes, rules: Rules, is_cuda_file: bool) -> CxxScan:
    """Findings of one C/C++/CUDA file."""
    parser, query, cursor = _parser()
    tree = parser.parse(source)
    caps = cursor(query).captures(tree.root_node)
    out: list[Finding] = []
    if is_cuda_file:
        rule = rules.default("cuda_source_files")
        out.append(Finding(path, 1, "cuda_source_files", path.rsplit(".", 1)[-1], rule.id))
    defined = {n.text.decode(errors="replace") for n in caps.get("macro", ())}
    device_code = _kernels(caps, path, rules, out, defined) or is_cuda_file
    _calls(caps, path, rules, out)
    for node in caps.get("qid", ()):
        if node.parent is not None and node.parent.type == "qualified_identifier":
            continue
        if node.parent is not None and node.parent.type == "call_expression":
            continue  # the call pass has it
        _match(out, rules, path, node.start_point[0] + 1, _name(node))
    for node in caps.get("using", ()):
        text = " ".join(node.text.decode(errors="replace").rstrip(";").split())
        _match(out, rules, path, node.start_point[0] + 1, text)
    if device_code:
        ptx_rule = rules.default("inline_ptx")
        for node in caps.get("asm", ()):
            out.append(Finding(path, node.start_point[0] + 1, "inline_ptx", _mnemonic(node),
                               ptx_rule.id))
    errors = caps.get("error", ())
    first = min((e.start_point[0] + 1 for e in errors), default=None)
    return CxxScan(out, first, defined)


def _kernels(caps: dict, path: str, rules: Rules, out: list[Finding], defined: set[str]
             ) -> bool:
    """Each __global__/__device__ function is a kernel of its own length; every function
    name is added to `defined`. True if the file has any device function."""
    kernel_rule = rules.default("cuda_kernels")
    device_code = False
    for fn in caps.get("fn", ()):
        qualifier = next((c.type for c in fn.children if c.type in _QUALIFIERS), None)
        name = _function_name(fn)
        defined.add(name)
        if qualifier is None:
            continue
        device_code = True
        loc = fn.end_point[0] - fn.start_point[0] + 1
        out.append(Finding(path, fn.start_point[0] + 1, "cuda_kernels", f"{qualifier} {name}",
                           kernel_rule.id, loc))
    return device_code


def _calls(caps: dict, path: str, rules: Rules, out: list[Finding]) -> None:
    """A `<<<...>>>` launch is a kernel launch; any other call is matched by its callee."""
    launch_rule = rules.default("kernel_launches")
    for call in caps.get("call", ()):
        callee = _name(call.child_by_field_name("function"))
        if not callee:
            continue
        line = call.start_point[0] + 1
        if any(c.type == "kernel_call_syntax" for c in call.children):
            out.append(Finding(path, line, "kernel_launches", callee, launch_rule.id))
            continue
        _match(out, rules, path, line, callee)


def _match(out: list[Finding], rules: Rules, path: str, line: int, symbol: str | None) -> None:
    if symbol:
        rule = rules.classify(NAME_KINDS, "cxx", symbol)
        if rule:
            out.append(Finding(path, line, rule.kind, symbol, rule.id))


def _name(node) -> str | None:
    """A callee or qualified name without template arguments or spaces; None otherwise."""
    if node is None or node.type not in ("identifier", "qualified_identifier",
                                         "template_function", "field_identifier"):
        return None
    text = node.text.decode(errors="replace").split("<", 1)[0]
    return "".join(text.split()) or None


def _function_name(fn) -> str:
    node = fn.child_by_field_name("declarator")
    while node is not None and node.type != "function_declarator":  # through *, &, &&
        node = node.child_by_field_name("declarator") or (
            node.named_children[-1] if node.named_children else None)
    inner = node.child_by_field_name("declarator") if node is not None else None
    return _name(inner) or (inner.text.decode(errors="replace") if inner else "?")


def _mnemonic(asm) -> str:
    """The first PTX instruction's first two dot parts (`mma.sync`, `ldmatrix.sync`), skipping
    braces, directives (`.reg`) and labels."""
    code = asm.child_by_field_name("assembly_code")
    text = code.text.decode(errors="replace") if code is not None else ""
    text = re.sub(r'"|\\[nt]?', " ", text)
    for statement in re.split(r"[;{}]", text):
        words = statement.split()
        if words and not words[0].startswith((".", "//", "@")) and not words[0].endswith(":"):
            return ".".join(words[0].split(".")[:2])
    return "asm"
