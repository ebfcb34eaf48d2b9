"""Models load from the catalog, config.json files and folders, and match published sizes."""

from __future__ import annotations

import json

import pytest

from xpuplan import api
from xpuplan.catalog.models import model_entries
from xpuplan.errors import SpecError, UnknownNameError
from xpuplan.workload.params import param_counts

# Published counts are compared within 1 % plus half a unit of the figure's last printed
# digit ("1.7B" stands for anything in [1.65, 1.75) B): `published_*_rounding` in models.toml.
REL_TOL = 0.01
ENTRIES = sorted(model_entries().values(), key=lambda e: e.id)


@pytest.mark.parametrize("entry", ENTRIES, ids=[e.id for e in ENTRIES])
def test_total_params_match_published(entry):
    counted = param_counts(api.load_model(entry.id)).total
    allowed = REL_TOL * entry.published_total_params + entry.published_total_rounding
    assert abs(counted - entry.published_total_params) <= allowed, (
        f"{entry.id}: counted {counted:,} vs published {entry.published_total_params:,.0f} "
        f"({entry.params_source})")


MOE = [e for e in ENTRIES if e.published_active_params != e.published_total_params
       and e.id != "kimi-k2"]  # Kimi K2's "32B activated" convention is not stated


@pytest.mark.parametrize("entry", MOE, ids=[e.id for e in MOE])
def test_active_params_match_published(entry):
    p = param_counts(api.load_model(entry.id))
    counted = p.active - (p.embedding if entry.published_active_excludes_embedding else 0)
    allowed = REL_TOL * entry.published_active_params + entry.published_active_rounding
    assert abs(counted - entry.published_active_params) <= allowed, (
        f"{entry.id}: counted {counted:,} vs published {entry.published_active_params:,.0f} "
        f"({entry.params_source})")


def test_every_required_model_type_has_a_builtin():
    types = {api.load_model(e.id).model_type for e in ENTRIES}
    assert {"gpt2", "gpt_neox", "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3",
            "qwen3_moe", "gemma2", "deepseek_v3", "gpt_oss"} <= types


def test_deepseek_v3_mla_moe_and_mtp():
    m = api.load_model("deepseek-v3")
    assert m.mla.kv_lora_rank == 512 and m.mla.q_lora_rank == 1536
    assert m.moe.n_routed_experts == 256 and m.moe.top_k == 8 and m.moe.n_shared_experts == 1
    assert m.n_moe_layers == 58 and m.n_dense_layers == 3  # first_k_dense_replace = 3
    # MTP module: DeepSeek-V3 report sec. 2.2; HF checkpoint 685B = 671B main + 14B MTP, of
    # which the embedding and head (2 x 0.93B) are shared copies -> about 11.6B own weights.
    assert param_counts(m).mtp == pytest.approx(11.6e9, rel=0.02)


def _llama_config(**changes):
    config = json.loads(model_entries()["llama-3.1-8b"].config_path.read_text())
    config.update(changes)
    return config


def test_load_from_file_and_folder(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps(_llama_config()))
    from_folder = api.load_model(tmp_path)
    from_file = api.load_model(tmp_path / "config.json")
    assert param_counts(from_folder).total == param_counts(from_file).total == 8_030_261_248


@pytest.mark.parametrize("changes,field", [
    ({"hidden_size": None}, "hidden_size"),
    ({"num_hidden_layers": -4}, "num_hidden_layers"),
    ({"hidden_size": 4100, "head_dim": None}, "hidden_size"),
    ({"num_key_value_heads": 5}, "num_key_value_heads"),
    ({"model_type": "bert"}, "model_type"),
    ({"intermediate_size": 0}, "intermediate_size"),
])
def test_bad_config_names_the_field(tmp_path, changes, field):
    config = _llama_config(**changes)
    for key in [k for k, v in changes.items() if v is None]:
        del config[key]
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(SpecError) as err:
        api.load_model(path)
    assert field in str(err.value)


def test_top_k_above_experts_is_rejected(tmp_path):
    config = json.loads(model_entries()["mixtral-8x7b"].config_path.read_text())
    config["num_experts_per_tok"] = 9
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    with pytest.raises(SpecError, match="num_experts_per_tok = 9"):
        api.load_model(path)


def test_unknown_model_and_offline_hub_are_one_line(run_cli, monkeypatch):
    with pytest.raises(UnknownNameError, match="llama-3.1-70b"):
        api.load_model("llama-3.1-7Ob")
    import urllib.request

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    code, out, err = run_cli("model", "some-org/some-model")
    assert code == 2 and out == "" and err.count("\n") == 1 and "Hugging Face Hub" in err


def test_model_json_keys(run_json):
    data = run_json("model", "llama-3.1-70b")
    for key in ("total_params", "active_params", "embedding_params", "flops_per_token_fwd",
                "flops_per_token_train", "weight_bytes"):
        assert key in data
    assert data["weight_bytes"]["bf16"] == 2 * data["total_params"]


# Families beyond the built-ins, from the architecture keys of their Hugging Face configs.
EXTRA_CONFIGS = [
    # DeepSeek-V2-Lite model card: 15.7B total, 2.4B activated (no q-LoRA, 64 experts top-6).
    ({"model_type": "deepseek_v2", "hidden_size": 2048, "num_hidden_layers": 27,
      "num_attention_heads": 16, "num_key_value_heads": 16, "q_lora_rank": None,
      "kv_lora_rank": 512, "qk_nope_head_dim": 128, "qk_rope_head_dim": 64, "v_head_dim": 128,
      "intermediate_size": 10944, "moe_intermediate_size": 1408, "n_routed_experts": 64,
      "n_shared_experts": 2, "num_experts_per_tok": 6, "first_k_dense_replace": 1,
      "moe_layer_freq": 1, "vocab_size": 102400, "tie_word_embeddings": False},
     15.7e9, 0.05e9, 2.4e9, 0.05e9, "embedding"),
    # GLM-4.5-Air (Z.ai model card): 106B total, 12B active; one MTP layer kept apart.
    ({"model_type": "glm4_moe", "hidden_size": 4096, "num_hidden_layers": 46,
      "num_attention_heads": 96, "num_key_value_heads": 8, "head_dim": 128,
      "intermediate_size": 10944, "moe_intermediate_size": 1408, "n_routed_experts": 128,
      "n_shared_experts": 1, "num_experts_per_tok": 8, "first_k_dense_replace": 1,
      "vocab_size": 151552, "attention_bias": True, "num_nextn_predict_layers": 1,
      "tie_word_embeddings": False},
     106e9, 0.5e9, 12e9, 0.5e9, "embedding and output head"),
]


@pytest.mark.parametrize("config,total,total_round,active,active_round,without",
                         EXTRA_CONFIGS, ids=["deepseek_v2", "glm4_moe"])
def test_other_families_match_published(tmp_path, config, total, total_round, active,
                                        active_round, without):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    p = param_counts(api.load_model(path))
    assert abs(p.total - total) <= REL_TOL * total + total_round
    # Publishers count activated parameters without the embedding (DeepSeek) or without
    # embedding and output head (Z.ai): the convention is part of the case.
    left_out = p.embedding + (p.lm_head if "head" in without else 0)
    assert abs(p.active - left_out - active) <= REL_TOL * active + active_round


def test_multimodal_wrapper_reads_its_text_model(tmp_path):
    # Gemma 3 checkpoints wrap the decoder in `text_config` (model_type gemma3_text).
    inner = json.loads(model_entries()["gemma-2-9b"].config_path.read_text())
    inner["model_type"] = "gemma3_text"
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "gemma3", "text_config": inner,
                                "vision_config": {"hidden_size": 1152}}))
    m = api.load_model(path)
    assert m.model_type == "gemma3_text" and m.hidden == inner["hidden_size"]
