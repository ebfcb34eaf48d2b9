"""API: a serving engine's run settings (batch cap, graphs, scheduler, static shapes), checked.

A published serving run states how its engine ran: the benchmark's cap on running sequences
(`--max-num-seqs`, `--max_batch_size`), eager launches (vLLM `--enforce-eager`), decode steps
per scheduler call (vLLM V0 `--num-scheduler-steps`), vLLM's `async_scheduling`, the context
buckets of a Neuron compile, a static KV cache per decode slot (JetStream's cache length) or a
static-shape export (Neuron `batch_size`, `seq_len`). `engine_run_fields` turns them into the
ServeProblem fields that serve/ reads (serve/problem.py documents each; serve/static.py the
static shapes), the same fields `xpuplan validate` sets from a validation row's columns; a
setting left at None keeps the engine's default from data/stacks.toml.
"""

from __future__ import annotations

from collections.abc import Sequence

from xpuplan.errors import SpecError
from xpuplan.specs.bounds import check

RUN_SETTINGS = ("max_running_batch", "scheduler_steps", "cuda_graphs", "async_scheduling",
                "context_buckets", "static_kv_tokens", "compiled_batch", "compiled_seq_len")


def engine_run_fields(*, input_len: int, max_running_batch: int | None = None,
                      scheduler_steps: int | None = None, cuda_graphs: bool = True,
                      async_scheduling: bool = False,
                      context_buckets: Sequence[int] | None = None,
                      static_kv_tokens: int | None = None, compiled_batch: int | None = None,
                      compiled_seq_len: int | None = None) -> dict:
    """The ServeProblem fields of these run settings, each checked (data/bounds.toml).

    `compiled_seq_len` (a Neuron export's S_c) is the static cache per slot and the length
    every prompt pads to, so it must hold the prompt; `static_kv_tokens` is a static cache
    that prompts do not pad to (JetStream); give one of the two. `context_buckets` are the
    compiled prefill lengths a prompt pads up to (serve/static.py).
    """
    for name, value in (("max_running_batch", max_running_batch),
                        ("scheduler_steps", scheduler_steps),
                        ("static_kv_tokens", static_kv_tokens),
                        ("compiled_batch", compiled_batch),
                        ("compiled_seq_len", compiled_seq_len)):
        check(name, value)
    for name, flag in (("cuda_graphs", cuda_graphs), ("async_scheduling", async_scheduling)):
        if not isinstance(flag, bool):
            raise SpecError(name, flag, "must be true or false")
    if static_kv_tokens is not None and compiled_seq_len is not None:
        raise SpecError("static_kv_tokens", static_kv_tokens, "give it or compiled_seq_len "
                        f"= {compiled_seq_len} (a Neuron export's cache), not both")
    if compiled_seq_len is not None and compiled_seq_len < input_len:
        raise SpecError("compiled_seq_len", compiled_seq_len, "every prompt pads to it, so it "
                        f"must be at least input_len = {input_len}")
    buckets = tuple(sorted({check("context_buckets", b) for b in context_buckets or ()}))
    return {"max_running_batch": max_running_batch, "scheduler_steps": scheduler_steps,
            "cuda_graphs": cuda_graphs, "async_scheduling": async_scheduling,
            "context_buckets": buckets, "kv_cache_tokens": compiled_seq_len or static_kv_tokens,
            "compiled_batch": compiled_batch, "pad_prompt_to_cache": compiled_seq_len is not None}


def parse_buckets(text: str | None, *, field: str = "context_buckets") -> tuple[int, ...] | None:
    """'2048,4096,8192' -> (2048, 4096, 8192) at a text edge (the CLI), checked; None passes.

    >>> parse_buckets("4096, 2048")
    (2048, 4096)
    """
    if text is None:
        return None
    try:
        values = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise SpecError(field, text, "comma-separated token counts, e.g. 2048,4096,8192") from None
    if not values:
        raise SpecError(field, text, "comma-separated token counts, e.g. 2048,4096,8192")
    return tuple(sorted({check(field, v, "context_buckets") for v in values}))
