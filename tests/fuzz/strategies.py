"""Hypothesis strategies for hostile but realistic input: config.json mutations, catalog
records, scenario YAML, CLI option values and special paths."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from hypothesis import strategies as st

from xpuplan.catalog.hardware import builtin_file

# Built-in configs the cases start from: dense, GQA, windowed, MoE of each style, MLA.
BASE_MODELS = ("llama-3.1-8b", "qwen3-8b", "mistral-7b", "gemma-2-9b", "gpt2", "mixtral-8x7b",
               "qwen3-30b-a3b", "qwen1.5-moe-a2.7b", "deepseek-v3", "gpt-oss-120b",
               "pythia-1.4b")
CONFIG_KEYS = ("model_type", "hidden_size", "num_hidden_layers", "num_attention_heads",
               "num_key_value_heads", "intermediate_size", "vocab_size", "head_dim",
               "max_position_embeddings", "sliding_window", "num_local_experts", "num_experts",
               "n_routed_experts", "num_experts_per_tok", "moe_intermediate_size",
               "first_k_dense_replace", "kv_lora_rank", "q_lora_rank", "layer_types",
               "tie_word_embeddings", "n_embd", "n_layer", "n_head", "n_inner", "text_config",
               "mlp_only_layers", "decoder_sparse_step", "rope_scaling")
BIG_INT = 10**5000  # printed into JSON/YAML text as 5,001 digits
HOSTILE = (None, True, False, -1, 0, 1, 2, 3, 7, 8, 64, 1.5, 32.0, 1e8, 10**8, 10**12, 2**31 - 1,
           2**63, -(2**63) - 1, "32", "llama", "", [], [1, 2], {}, {"a": 1}, "NaN", "Infinity",
           BIG_INT)
SIZES = (1, 2, 3, 8, 17, 64, 1000, 2**31 - 1, 2**63, 10**7, 10**7 + 1)


def builtin_config(name: str) -> dict:
    return json.loads(builtin_file(f"models/{name}.json").read_text())


def _json_text(data) -> str:
    """JSON text that may hold NaN/Infinity (json.dumps allows them) and 5,000-digit ints."""
    import sys

    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return json.dumps(data)
    finally:
        sys.set_int_max_str_digits(old)


@st.composite
def config_files(draw) -> bytes:
    """A built-in config.json after 0-3 mutations, as the bytes of a file."""
    data = builtin_config(draw(st.sampled_from(BASE_MODELS)))
    for _ in range(draw(st.integers(0, 3))):
        data = _mutated(draw, data)
    if draw(st.booleans()):
        data.pop("model_type", None) if draw(st.booleans()) else None
    text = _json_text(data)
    for depth in (5, 40, 5000):
        text = text.replace(f'"@@deep{depth}@@"', "[" * depth + "1" + "]" * depth)
    return _encoded(draw, text)


def _mutated(draw, data: dict) -> dict:
    """`data` after one mutation of a drawn key: a hostile value, the key deleted, a
    non-finite number, a marker for a deeply nested list, or the whole config wrapped as the
    text_config of a multimodal one."""
    op = draw(st.sampled_from(("set", "set", "delete", "nan", "nest", "text_config")))
    key = draw(st.sampled_from(CONFIG_KEYS))
    if op == "set":
        value = draw(st.sampled_from(HOSTILE))
        data[key] = float(value) if value in ("NaN", "Infinity") else value
    elif op == "delete":
        data.pop(key, None)
    elif op == "nan":
        data[key] = draw(st.sampled_from((float("nan"), float("inf"), -float("inf"))))
    elif op == "nest":  # written into the text by config_files (too deep for a Python repr)
        depth = draw(st.sampled_from((5, 40, 5000)))
        data[key] = f"@@deep{depth}@@"
    else:
        data = {"model_type": draw(st.sampled_from(("gemma3", "mistral3", "llava"))),
                "text_config": data}
    return data


def _encoded(draw, text: str) -> bytes:
    """The file's bytes: mostly UTF-8, else UTF-16, a garbage prefix, or cut short."""
    encoding = draw(st.sampled_from(("utf-8",) * 6 + ("utf-16", "latin-1-garbage",
                                                      "truncated")))
    if encoding == "utf-16":
        return text.encode("utf-16")
    if encoding == "latin-1-garbage":
        return b"\xff\xfe\x00" + text.encode("utf-8")[:200]
    if encoding == "truncated":
        return text.encode("utf-8")[: draw(st.integers(0, max(len(text) - 1, 0)))]
    return text.encode("utf-8")


CHIP_FIGURE_KEYS = ("bf16_dense_tflops", "fp8_dense_tflops", "int8_dense_tops", "hbm_gb",
                    "hbm_tb_per_s", "scaleup_gb_per_s_bidir", "scaleup_gb_per_s_unidir",
                    "scaleout_gb_per_s_unidir", "tdp_w", "hbm_bytes", "fp4_dense_pflops",
                    "hbm_furlongs")
CHIP_FACT_KEYS = ("vendor", "name", "year", "scaleup_domain_chips", "scaleup_topology",
                  "cores_per_chip", "aliases", "retrieved", "id")
NUMBERS = (0, -1, 1, 80, 989, 3.35, 1e3, 1e20, 1e308, float("inf"), float("nan"), 2**63,
           "989", None, True, [1], BIG_INT)


@st.composite
def catalog_files(draw) -> tuple[str, bytes]:
    """(suffix, bytes) of a user catalog: a few chip/instance records with hostile values."""
    records = []
    for _ in range(draw(st.integers(1, 3))):
        rec = {"id": draw(st.sampled_from(("h100", "my-asic", "b200", 7, "", "x" * 400))),
               "vendor": "acme", "name": "Acme", "hbm_gb": 64, "bf16_dense_tflops": 500,
               "hbm_tb_per_s": 2.0, "scaleup_gb_per_s_bidir": 400}
        if draw(st.booleans()):
            rec["source"] = draw(st.sampled_from(("datasheet", "", None)))
        for _ in range(draw(st.integers(0, 3))):
            key = draw(st.sampled_from(CHIP_FIGURE_KEYS + CHIP_FACT_KEYS))
            rec[key] = draw(st.sampled_from(NUMBERS + ("text",)))
        records.append(rec)
    data: dict = {"chips": records}
    if draw(st.booleans()):
        data["instances"] = [{"id": "p5.48xlarge", "source": "quote",
                              "on_demand_usd_per_hour": draw(st.sampled_from(NUMBERS))}]
    if draw(st.integers(0, 4)) == 0:
        data[draw(st.sampled_from(("gpus", "chip", "models")))] = []
    suffix = draw(st.sampled_from((".yaml", ".yaml", ".toml")))
    return suffix, _table_text(data, suffix, draw)


def _table_text(data: dict, suffix: str, draw) -> bytes:
    if suffix == ".toml":
        lines = []
        for section, rows in data.items():
            for row in rows if isinstance(rows, list) else []:
                lines.append(f"[[{section}]]")
                for k, v in row.items():
                    lines.append(f"{k} = {_toml_value(v)}")
        return "\n".join(lines).encode()
    text = yaml.safe_dump(data, sort_keys=False) if _yamlable(data) else "chips: [1"
    if draw(st.integers(0, 5)) == 0:
        text = alias_bomb(draw(st.integers(3, 9)))
    return text.encode()


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return '""'
    if isinstance(v, float):
        return {"inf": "inf", "nan": "nan"}.get(str(v), repr(v))
    if isinstance(v, int) and v.bit_length() > 64:
        return "1" * 5000
    if isinstance(v, (int,)):
        return str(v)
    return json.dumps(v) if isinstance(v, (str, list)) else '""'


def _yamlable(data) -> bool:
    try:
        yaml.safe_dump(data)
    except (ValueError, yaml.YAMLError):
        return False
    return True


def alias_bomb(levels: int, fan: int = 7) -> str:
    """The billion-laughs YAML: `levels` anchors, each a list of `fan` aliases of the last."""
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol]"]
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * fan) + "]")
    lines.append(f"kind: contract\nname: *l{levels - 1}\nchips: *l{levels - 1}")
    return "\n".join(lines) + "\n"


SCENARIOS = ("nvidia-investment-loop", "compute-spend-forecast", "aws-openai-contract",
             "nvidia-10gw", "trainium-shift", "own-silicon-margin")
SCENARIO_VALUES = (0, -1, 1, 0.5, 7, 1e9, 1e20, float("inf"), float("nan"), "15T", "1e400",
                   "abc", None, [], {"a": 1}, True, 2**63, BIG_INT)


@st.composite
def scenario_files(draw, cheap: bool = True) -> bytes:
    """A built-in scenario after 0-3 mutations (number, kind, unknown key, deletion)."""
    names = SCENARIOS[:2] if cheap else SCENARIOS
    path = builtin_file(f"scenarios/{draw(st.sampled_from(names))}.yaml")
    data = yaml.safe_load(Path(path).read_text())
    for _ in range(draw(st.integers(0, 3))):
        keys = [k for k, v in data.items() if k not in ("sources",)]
        key = draw(st.sampled_from(sorted(keys)))
        op = draw(st.sampled_from(("set", "set", "set", "delete", "unknown", "kind")))
        if op == "set":
            data[key] = draw(st.sampled_from(SCENARIO_VALUES))
        elif op == "delete":
            data.pop(key)
        elif op == "unknown":
            data["colour"] = "blue"
        else:
            data["kind"] = draw(st.sampled_from(("contract", "vendor_mix", "nope", 3)))
    if draw(st.integers(0, 6)) == 0:
        return alias_bomb(draw(st.integers(3, 9))).encode()
    import sys

    old = sys.get_int_max_str_digits()
    sys.set_int_max_str_digits(0)
    try:
        return yaml.safe_dump(data, sort_keys=False).encode()
    finally:
        sys.set_int_max_str_digits(old)


INT_TEXT = ("0", "-1", "1", "7", "8", "64", "2147483647", "9223372036854775808", "1" * 5000,
            "abc", "1e3", "1.5", "inf", "nan", "10000001", "")
FLOAT_TEXT = ("0", "-1", "0.001", "50", "1e400", "inf", "-inf", "nan", "abc", "1e9", "1e10")
TOKENS_TEXT = ("15T", "1e400", "nan", "inf", "-1", "0", "1e17", "2e17", "1k", "abc", "1" * 5000)
CHIPS = ("h100", "b300", "tpu-v5p", "trn2", "mi300x", "h1OO", "gaudi3", "a100-80gb")
MODELS = ("llama-3.1-8b", "qwen3-30b-a3b", "gpt2", "mixtral-8x7b", "nosuch", "a/b")


@st.composite
def cli_options(draw) -> list[str]:
    """A train / search / infer / model / compare command line with hostile option values."""
    cmd = draw(st.sampled_from(("train", "train", "search", "infer", "infer", "model",
                                "compare")))
    model = draw(st.sampled_from(MODELS))
    chip = draw(st.sampled_from(CHIPS))
    if cmd == "model":
        return ["model", model, "--seq-len", draw(st.sampled_from(INT_TEXT)), "--json"]
    if cmd == "compare":
        return ["compare", "llama-3.1-8b", "--chip", f"{chip},h100", "--chips",
                draw(st.sampled_from(INT_TEXT[:9])), "--tokens",
                draw(st.sampled_from(TOKENS_TEXT)), "--json"]
    argv = [cmd, model, "--chip", chip]
    if cmd == "infer":
        opts = {"--chips": INT_TEXT, "--input-len": INT_TEXT, "--output-len": INT_TEXT,
                "--batch": INT_TEXT, "--ttft-ms": FLOAT_TEXT, "--tpot-ms": FLOAT_TEXT,
                "--tp": INT_TEXT, "--weights": ("fp8", "fp4", "int8", "fp2"),
                "--kv": ("fp8", "bf16", "x")}
        argv += ["--chips", draw(st.sampled_from(("1", "8", "64")))]
    else:
        opts = {"--seq-len": INT_TEXT, "--global-batch": INT_TEXT, "--tp": INT_TEXT,
                "--pp": INT_TEXT, "--dp": INT_TEXT, "--ep": INT_TEXT, "--vpp": INT_TEXT,
                "--micro-batch": INT_TEXT, "--zero": INT_TEXT,
                "--precision": ("bf16", "fp8", "int8", "fp4", "fp16", "fp32"),
                "--recompute": ("none", "full", "sometimes")}
        opts["--tokens" if cmd == "train" else "--top"] = (
            TOKENS_TEXT if cmd == "train" else INT_TEXT)
        argv += ["--chips", draw(st.sampled_from(("1", "8", "64", "8", "2147483647",
                                                  "10000000", "0")))]
    for name in draw(st.lists(st.sampled_from(sorted(opts)), max_size=3, unique=True)):
        argv += [name, draw(st.sampled_from(opts[name]))]
    if cmd == "infer" and draw(st.booleans()):
        argv.append("--disaggregated")
    return [*argv, "--json"]
