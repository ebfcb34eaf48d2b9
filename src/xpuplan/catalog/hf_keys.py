"""The raw `config.json` keys each model family needs, checked before transformers sees them.

transformers fills every absent key with its class default (Qwen2 32 KV heads, Mistral a
4,096-token window, Gemma a 256-wide head, Llama an 11,008-wide MLP), so a file that leaves
out a key the architecture needs would silently become another model. Here a needed key
that is absent is an error naming it; every key read has its JSON type checked (one line
naming the field and the type) and its value bounded (data/bounds.toml).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from xpuplan.errors import SpecError
from xpuplan.specs.bounds import check

# Keys every family needs (GPT-2 spells them n_embd, n_layer, n_head; aliases resolve them).
COMMON = ("hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size")
# Keys a family needs beyond COMMON; absent, transformers would substitute its default.
NEEDED: dict[str, tuple[str, ...]] = {
    "gpt2": ("n_positions",),
    "mixtral": ("num_local_experts", "num_experts_per_tok"),
    "phimoe": ("num_local_experts", "num_experts_per_tok"),
    "gpt_oss": ("num_local_experts", "num_experts_per_tok", "head_dim"),
    "qwen2_moe": ("num_experts", "num_experts_per_tok", "moe_intermediate_size",
                  "shared_expert_intermediate_size"),
    "qwen3_moe": ("num_experts", "num_experts_per_tok", "moe_intermediate_size"),
    "deepseek_v2": ("n_routed_experts", "num_experts_per_tok", "moe_intermediate_size",
                    "n_shared_experts", "first_k_dense_replace", "kv_lora_rank",
                    "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim", "q_lora_rank"),
    "glm4_moe": ("n_routed_experts", "num_experts_per_tok", "moe_intermediate_size",
                 "n_shared_experts", "first_k_dense_replace"),
    "qwen3": ("head_dim",), "gemma": ("head_dim",), "gemma2": ("head_dim",),
    "gemma3_text": ("head_dim",),
}
NEEDED["deepseek_v3"] = NEEDED["deepseek_v2"]
# Families whose configs may omit num_key_value_heads to mean one KV head per query head
# (the modelling code sets K = N); every other family must give it.
MHA_BY_DEFAULT = ("gpt2", "gpt_neox", "llama", "deepseek_v2", "deepseek_v3")
# Every family but GPT-2 (n_inner = None means 4·D) needs its MLP width.
MLP_OPTIONAL = ("gpt2",)
EXPERT_KEYS = ("num_experts", "num_local_experts", "n_routed_experts")
MOE_TYPES = ("mixtral", "phimoe", "gpt_oss", "qwen2_moe", "qwen3_moe", "deepseek_v2",
             "deepseek_v3", "glm4_moe")
INT_KEYS = ("hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size",
            "intermediate_size", "n_inner", "num_key_value_heads", "head_dim", "n_positions",
            "max_position_embeddings", "num_local_experts", "num_experts", "n_routed_experts",
            "num_experts_per_tok", "moe_intermediate_size", "shared_expert_intermediate_size",
            "n_shared_experts", "first_k_dense_replace", "moe_layer_freq",
            "decoder_sparse_step", "kv_lora_rank", "q_lora_rank", "qk_nope_head_dim",
            "qk_rope_head_dim", "v_head_dim", "sliding_window", "num_nextn_predict_layers")
NULLABLE = ("n_inner", "q_lora_rank", "sliding_window", "num_key_value_heads", "head_dim")
BOOL_KEYS = ("tie_word_embeddings", "attention_bias", "mlp_bias", "use_bias", "use_qk_norm",
             "use_sliding_window")
BOUND_OF = {"n_positions": "max_position_embeddings"}


def check_raw(model_type: str, raw: dict[str, Any], aliases: dict[str, str]) -> None:
    """Refuse a raw config that lacks a key its family needs, has a key of the wrong JSON
    type, or a value out of bounds; a dense family listing experts is refused too."""
    def given(key: str) -> bool:
        return key in raw or aliases.get(key, key) in raw

    def value(key: str) -> Any:
        return raw.get(key, raw.get(aliases.get(key, key)))

    _check_needed(model_type, aliases, given, value)
    _check_types(raw, given, value)
    _check_lists(raw, value("num_hidden_layers"))
    if model_type not in MOE_TYPES:
        for key in EXPERT_KEYS:
            if raw.get(key):
                raise SpecError(key, raw[key], f"{model_type} is a dense model type; remove "
                                f"the key or give a mixture-of-experts model_type "
                                f"({', '.join(MOE_TYPES)})")


def _check_needed(model_type: str, aliases: dict[str, str], given: Callable[[str], bool],
                  value: Callable[[str], Any]) -> None:
    """Every key the family needs is given (transformers would default a missing one)."""
    needed = list(COMMON) + list(NEEDED.get(model_type, ()))
    if model_type not in MLP_OPTIONAL:
        needed.append("intermediate_size")
    if model_type not in MHA_BY_DEFAULT:
        needed.append("num_key_value_heads")
    for key in needed:
        if not given(key) or (value(key) is None and key != "q_lora_rank"):
            spelled = f" (or '{aliases[key]}')" if key in aliases else ""
            raise SpecError(key, None, f"required in config.json for {model_type}{spelled}; "
                            "it is missing (transformers would substitute a default)")


def _check_types(raw: dict[str, Any], given: Callable[[str], bool],
                 value: Callable[[str], Any]) -> None:
    """Integer keys are JSON integers within bounds (or null where allowed); flags are bools."""
    for key in INT_KEYS:
        v = value(key)
        if not given(key) or (v is None and key in NULLABLE):
            continue
        if isinstance(v, bool) or not isinstance(v, int):
            raise SpecError(key, v, f"must be a JSON integer (got {_json_type(v)})")
        check(key, v, BOUND_OF.get(key))
    for key in BOOL_KEYS:
        if key in raw and not isinstance(raw[key], bool):
            raise SpecError(key, raw[key], f"must be true or false (got {_json_type(raw[key])})")


def _check_lists(raw: dict[str, Any], n_layers: int) -> None:
    types = raw.get("layer_types")
    if types is not None:
        if not isinstance(types, list) or not all(isinstance(t, str) for t in types):
            raise SpecError("layer_types", types, "must be a list of strings, one per layer")
        if len(types) != n_layers:
            raise SpecError("layer_types", f"{len(types)} entries",
                            f"must list one type per layer ({n_layers})")
    dense = raw.get("mlp_only_layers")
    if dense is not None and (not isinstance(dense, list) or not all(
            isinstance(i, int) and not isinstance(i, bool) for i in dense)):
        raise SpecError("mlp_only_layers", dense, "must be a list of layer indices (integers)")


def _json_type(v: Any) -> str:
    return {bool: "boolean", int: "integer", float: "number", str: "string", list: "array",
            dict: "object", type(None): "null"}.get(type(v), type(v).__name__)
