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
    counted = param_counts(api.load_model(entry.id)).active
    allowed = REL_TOL * entry.published_active_params + entry.published_active_rounding
    assert abs(counted - entry.published_active_params) <= allowed, (
        f"{entry.id}: counted {counted:,} vs published {entry.published_active_params:,.0f} "
        f"({entry.params_source})")


def test_every_required_model_type_has_a_builtin():
    types = {api.load_model(e.id).model_type for e in ENTRIES}
    assert {"gpt2", "gpt_neox", "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3",
            "qwen3_moe", "gemma2", "deepseek_v3"} <= types


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
