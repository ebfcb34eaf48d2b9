"""ModelSpec from a Hugging Face `config.json`, through `transformers.AutoConfig`.

AutoConfig already knows each family's key names (`n_embd` = `hidden_size` for GPT-2,
`num_experts` = `num_local_experts` for Qwen3-MoE, ...) and runs without torch, so we read
the normalised attributes. It also fills silent defaults for missing keys, so the keys each
family needs, their JSON types and bounds are checked on the raw file first (`hf_keys`), and
the values whose class defaults are not the architecture's (KV heads, head dim, window) are
read from the raw file. transformers is imported once, under a lock (its lazy module is not
safe to import from several threads at once), and its warnings are silenced.
"""

from __future__ import annotations

import os
import threading
import warnings
from typing import Any

from pydantic import ValidationError

from xpuplan.catalog.hf_keys import MOE_TYPES, check_raw
from xpuplan.errors import SpecError, one_line, validation_problem
from xpuplan.specs.model import MLASpec, ModelSpec, MoESpec

SUPPORTED_TYPES = ("gpt2", "gpt_neox", "llama", "mistral", "mixtral", "qwen2", "qwen2_moe",
                   "qwen3", "qwen3_moe", "gemma", "gemma2", "gemma3_text", "deepseek_v2",
                   "deepseek_v3", "glm4_moe", "gpt_oss", "phimoe", "granite", "starcoder2",
                   "olmo2", "phi3")
# Families with a plain two-matrix MLP (GELU) instead of a gated one (SwiGLU/GeGLU).
UNGATED_TYPES = ("gpt2", "gpt_neox", "starcoder2")
MLA_TYPES = ("deepseek_v2", "deepseek_v3")
# Mixtral-style MoE: every layer routes and the experts' width is intermediate_size.
MIXTRAL_STYLE = ("mixtral", "phimoe", "gpt_oss")
# DeepSeek-style MoE: n_routed/n_shared experts after first_k_dense_replace dense layers.
DEEPSEEK_STYLE = ("deepseek_v2", "deepseek_v3", "glm4_moe")
_IMPORT_LOCK = threading.Lock()  # transformers' lazy modules are not safe to import twice at once
_CONFIG_MAPPING = None
# Library warnings (FutureWarning on deprecated keys) never reach the user's terminal.
warnings.filterwarnings("ignore", module=r"(transformers|huggingface_hub|xpuplan\.catalog)")


# Published model types that reuse another family's architecture and modelling code.
TYPE_ALIASES = {"kimi_k2": "deepseek_v3"}  # Moonshot Kimi K2 ships DeepseekV3ForCausalLM


def model_spec_from_config(raw: dict[str, Any], name: str) -> ModelSpec:
    """Validate a raw config.json dict and turn it into a ModelSpec.

    A multimodal wrapper (gemma3, mistral3, ...) whose `text_config` is a supported decoder
    is read through that text model: the vision tower is not part of the LLM's cost here.
    """
    text = raw.get("text_config")
    raw_type = raw.get("model_type")
    if not isinstance(raw_type, str):
        raise SpecError("model_type", raw_type, "must be a string naming a supported decoder "
                        f"model type ({', '.join(SUPPORTED_TYPES[:6])}, ...)")
    if raw_type not in SUPPORTED_TYPES and isinstance(text, dict):
        return model_spec_from_config(text, name)
    model_type = TYPE_ALIASES.get(raw_type, raw_type)
    if model_type not in SUPPORTED_TYPES:
        raise SpecError("model_type", model_type,
                        f"supported decoder model types: {', '.join(SUPPORTED_TYPES)}")
    c = _auto_config(model_type, raw)
    hidden, n_layers, n_heads = c.hidden_size, c.num_hidden_layers, c.num_attention_heads
    n_kv_heads = raw.get("num_key_value_heads") or n_heads  # absent: K = N (checked by family)
    _positive("num_key_value_heads", n_kv_heads)
    mla = _mla(c) if model_type in MLA_TYPES else None
    head_dim = raw.get("head_dim") if mla is None else None  # absent: D/N (checked by family)
    if mla is not None:
        head_dim = mla.qk_nope_head_dim + mla.qk_rope_head_dim
    elif not head_dim:
        if hidden % n_heads:
            raise SpecError("hidden_size", hidden,
                            f"must be divisible by num_attention_heads = {n_heads} "
                            "(or give head_dim)")
        head_dim = hidden // n_heads
    _positive("head_dim", head_dim)
    ffn_hidden = getattr(c, "intermediate_size", getattr(c, "n_inner", None))
    if ffn_hidden is None:
        ffn_hidden = 4 * hidden  # GPT-2: n_inner = None means 4·D (Radford et al. 2019)
    _positive("intermediate_size", ffn_hidden)
    is_gpt2, is_neox = model_type == "gpt2", model_type == "gpt_neox"
    all_bias = model_type == "starcoder2" and bool(getattr(c, "use_bias", True))
    attention_bias = bool(getattr(c, "attention_bias", False)) or all_bias
    return _spec(
        name=name,
        model_type=model_type,
        n_layers=n_layers,
        hidden=hidden,
        ffn_hidden=ffn_hidden,
        n_heads=n_heads,
        n_kv_heads=n_kv_heads,
        head_dim=head_dim,
        vocab=c.vocab_size,
        tied_embeddings=bool(getattr(c, "tie_word_embeddings", False)),
        gated_mlp=model_type not in UNGATED_TYPES,
        learned_positions=c.max_position_embeddings if is_gpt2 else 0,
        qkv_bias=is_gpt2 or attention_bias or model_type in ("qwen2", "qwen2_moe"),
        out_bias=is_gpt2 or (attention_bias and model_type not in ("qwen2", "qwen2_moe")),
        mlp_bias=is_gpt2 or is_neox or all_bias or bool(getattr(c, "mlp_bias", False)),
        norm_bias=is_gpt2 or is_neox or model_type in ("starcoder2", "phimoe"),
        norms_per_layer=4 if model_type in ("gemma2", "gemma3_text") else 2,
        qk_norm=model_type in ("qwen3", "qwen3_moe", "gemma3_text", "olmo2")
        or bool(getattr(c, "use_qk_norm", False)),
        attention_sinks=model_type == "gpt_oss",
        sliding_window=_sliding_window(c, raw),
        sliding_layers=_sliding_layers(c, raw, n_layers),
        moe=_moe(c, model_type, n_layers, hidden) if model_type in MOE_TYPES else None,
        mla=mla,
        n_mtp_layers=int(getattr(c, "num_nextn_predict_layers", 0) or 0),
        max_seq_len=getattr(c, "max_position_embeddings", None),
    )


def _spec(**fields) -> ModelSpec:
    try:
        return ModelSpec(**fields)
    except ValidationError as exc:
        loc, problem = validation_problem(exc)
        raise SpecError(loc, None, problem) from None


def _auto_config(model_type: str, raw: dict[str, Any]):
    """transformers' config object for this family (imported lazily: it takes ~1 s), after
    checking on the raw file the keys AutoConfig would silently default or reject obscurely."""
    config_class = _config_mapping()[model_type]
    aliases = getattr(config_class, "attribute_map", {})
    check_raw(model_type, raw, aliases)

    def raw_value(key: str) -> Any:
        return raw.get(key, raw.get(aliases.get(key, key)))

    for key in ("hidden_size", "num_hidden_layers", "num_attention_heads", "vocab_size"):
        _positive(key, raw_value(key))
    hidden, heads = raw_value("hidden_size"), raw_value("num_attention_heads")
    if not raw.get("head_dim") and model_type not in MLA_TYPES and hidden % heads:
        raise SpecError("hidden_size", hidden, f"must be divisible by num_attention_heads = "
                        f"{heads} (or give head_dim)")
    kv_heads = raw.get("num_key_value_heads")
    if kv_heads is not None:
        _positive("num_key_value_heads", kv_heads)
        if heads % kv_heads:
            raise SpecError("num_key_value_heads", kv_heads,
                            f"must divide num_attention_heads = {heads}")
    kwargs = {k: v for k, v in raw.items() if k not in ("model_type", "transformers_version")}
    try:
        return config_class(**kwargs)
    except Exception as exc:  # transformers' own validators raise several types
        cause = exc.__cause__ or exc
        lines = str(cause).strip().splitlines() or [type(cause).__name__]
        raise SpecError("config.json", model_type,
                        f"transformers rejected it: {one_line(lines[-1], 160)}") from None


def _config_mapping():
    """transformers.CONFIG_MAPPING, imported once under a lock (it takes ~1 s, and its lazy
    module raises ImportError in threads that import it while another is)."""
    global _CONFIG_MAPPING
    with _IMPORT_LOCK:
        if _CONFIG_MAPPING is None:
            os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
            from transformers import CONFIG_MAPPING

            _CONFIG_MAPPING = CONFIG_MAPPING
    return _CONFIG_MAPPING


def _positive(key: str, value: Any) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise SpecError(key, value, "must be a positive integer")


def _mla(c) -> MLASpec:
    for key in ("kv_lora_rank", "qk_nope_head_dim", "qk_rope_head_dim", "v_head_dim"):
        _positive(key, getattr(c, key, None))
    return MLASpec(q_lora_rank=c.q_lora_rank or None, kv_lora_rank=c.kv_lora_rank,
                   qk_nope_head_dim=c.qk_nope_head_dim, qk_rope_head_dim=c.qk_rope_head_dim,
                   v_head_dim=c.v_head_dim)


def _moe(c, model_type: str, n_layers: int, hidden: int) -> MoESpec | None:
    """Which layers route and how: each family's rule, as its modelling code applies it."""
    n_experts = (getattr(c, "n_routed_experts", None) or getattr(c, "num_local_experts", None)
                 or getattr(c, "num_experts", None))
    if not n_experts:
        return None
    _positive("num_experts", n_experts)
    top_k = c.num_experts_per_tok
    _positive("num_experts_per_tok", top_k)
    if top_k > n_experts:
        raise SpecError("num_experts_per_tok", top_k,
                        f"must be <= the number of experts ({n_experts})")
    if model_type in MIXTRAL_STYLE:
        gpt_oss = model_type == "gpt_oss"
        return MoESpec(n_routed_experts=n_experts, top_k=top_k,
                       expert_ffn_hidden=c.intermediate_size, moe_layers=(True,) * n_layers,
                       router_bias=gpt_oss, expert_bias=gpt_oss)
    expert_ffn = c.moe_intermediate_size
    _positive("moe_intermediate_size", expert_ffn)
    if model_type in DEEPSEEK_STYLE:
        first_dense, freq = c.first_k_dense_replace, getattr(c, "moe_layer_freq", 1) or 1
        layers = tuple(i >= first_dense and i % freq == 0 for i in range(n_layers))
        n_shared = c.n_shared_experts or 0
        # DeepSeek-V3 and GLM-4.5 route with a learned correction bias; V2 does not.
        return MoESpec(n_routed_experts=n_experts, top_k=top_k, expert_ffn_hidden=expert_ffn,
                       n_shared_experts=n_shared, shared_expert_ffn_hidden=expert_ffn,
                       router_bias=model_type != "deepseek_v2", moe_layers=layers)
    # Qwen2-MoE / Qwen3-MoE: layer i routes unless listed in mlp_only_layers, every
    # decoder_sparse_step-th layer (modeling_qwen2_moe.py, Qwen2MoeDecoderLayer).
    dense_only = set(getattr(c, "mlp_only_layers", None) or [])
    step = getattr(c, "decoder_sparse_step", 1) or 1
    layers = tuple(i not in dense_only and (i + 1) % step == 0 for i in range(n_layers))
    shared_ffn = getattr(c, "shared_expert_intermediate_size", 0) or 0
    return MoESpec(n_routed_experts=n_experts, top_k=top_k, expert_ffn_hidden=expert_ffn,
                   n_shared_experts=1 if shared_ffn else 0, shared_expert_ffn_hidden=shared_ffn,
                   shared_expert_gate=bool(shared_ffn), moe_layers=layers)


def _sliding_window(c, raw: dict[str, Any]) -> int | None:
    """The window the file gives (transformers' class default when absent is not used)."""
    window = raw.get("sliding_window")
    if not window or getattr(c, "use_sliding_window", True) is False:
        return None
    return int(window)


def _sliding_layers(c, raw: dict[str, Any], n_layers: int) -> tuple[bool, ...]:
    """Per layer, whether attention is windowed: `layer_types` if given, else all or none."""
    if _sliding_window(c, raw) is None:
        return ()
    types = getattr(c, "layer_types", None)
    if types:
        return tuple(t == "sliding_attention" for t in types)
    return (True,) * n_layers
