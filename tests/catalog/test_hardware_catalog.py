"""The shipped chip and instance catalog: coverage, sources, units, user overrides."""

from __future__ import annotations

import pytest

from xpuplan import api
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.errors import CatalogError, UnknownNameError

REQUIRED_CHIPS = ["a100-80gb", "h100-sxm", "h800", "h200", "b200", "gb200", "gb300", "mi250x",
                  "mi300x", "mi325x", "mi355x", "trn1", "trn2", "trn3",
                  "inf2", "tpu-v4", "tpu-v5e", "tpu-v5p", "tpu-v6e", "tpu-v7", "gaudi3"]


@pytest.mark.parametrize("chip_id", REQUIRED_CHIPS)
def test_required_chip_has_core_figures_with_sources(chip_id):
    c = api.chip(chip_id)
    assert c.bf16_dense_flops > 1e13 and c.hbm_bytes > 1e10 and c.hbm_bw > 1e11
    for figure in ("bf16_dense_flops", "hbm_bytes", "hbm_bw"):
        assert (c.sources.get(figure) or c.source).strip()
    assert c.retrieved


@pytest.mark.parametrize("alias,chip_id", [("h100", "h100-sxm"), ("trainium2", "trn2"),
                                           ("trillium", "tpu-v6e"), ("ironwood", "tpu-v7"),
                                           ("H100", "h100-sxm"), ("a100", "a100-80gb")])
def test_aliases_resolve(alias, chip_id):
    assert api.chip(alias).id == chip_id


def test_nvlink_bidirectional_figure_is_halved():
    # NVIDIA prints 900 GB/s NVLink for H100 as the bidirectional total (H100 product page).
    assert api.chip("h100-sxm").scaleup_bw_unidir == pytest.approx(450e9)


def test_dense_not_sparse_flops():
    # H100 SXM: 989.4 dense BF16 TFLOP/s (Hopper whitepaper); 1,979 is the sparse figure.
    assert api.chip("h100-sxm").bf16_dense_flops == pytest.approx(989.4e12, rel=1e-3)


def test_unknown_chip_names_close_matches():
    with pytest.raises(UnknownNameError) as err:
        api.chip("h1OO")
    assert "h100" in str(err.value)


def test_chips_json_has_every_figure_with_source(run_json):
    data = run_json("chips")
    ids = {c["id"] for c in data["chips"]}
    assert set(REQUIRED_CHIPS) <= ids
    for chip in data["chips"]:
        assert chip["figures"], chip["id"]
        for name, fig in chip["figures"].items():
            assert fig["source"] and fig["value"] > 0 and fig["unit"], (chip["id"], name)


def test_instances_reference_known_chips_and_convert_prices():
    p5 = api.instance("p5.48xlarge")
    assert p5.chip == "h100-sxm" and p5.chips == 8
    # $55.04 per instance-hour (SkyPilot AWS catalog), stored per second.
    assert p5.on_demand_usd_per_s * 3600 == pytest.approx(55.04)


def _write(tmp_path, text, name="extra.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_user_yaml_adds_chip_and_overrides_price(tmp_path):
    path = _write(tmp_path, """
chips:
  - id: my-asic
    vendor: acme
    name: Acme A1
    bf16_dense_tflops: 500
    hbm_gb: 64
    hbm_tb_per_s: 2.0
    scaleup_gb_per_s_bidir: 400
    source: Acme datasheet rev 1
    retrieved: "2026-11-01"
instances:
  - id: p5.48xlarge
    on_demand_usd_per_hour: 40.0
    source: negotiated quote 2026-11
""")
    cat = hardware_catalog([path])
    asic = cat.chip("my-asic")
    assert asic.bf16_dense_flops == pytest.approx(5e14)
    assert asic.scaleup_bw_unidir == pytest.approx(200e9)
    p5 = cat.instance("p5.48xlarge")
    assert p5.on_demand_usd_per_s * 3600 == pytest.approx(40.0)
    assert p5.sources["on_demand_usd_per_s"] == "negotiated quote 2026-11"
    assert p5.chips == 8  # untouched keys keep the built-in value


def test_catalog_env_variable_is_read(tmp_path, monkeypatch):
    path = _write(tmp_path, "chips:\n  - id: h100-sxm\n    tdp_w: 650\n    source: my lab\n")
    monkeypatch.setenv("XPUPLAN_CATALOG", path)
    assert hardware_catalog().chip("h100").tdp_w == 650


@pytest.mark.parametrize("body,key,problem", [
    ("chips:\n  - id: x1\n    vendor: a\n    name: X\n    bf16_dense_tflops: 5\n", "bf16_dense_tflops",
     "no source"),
    ("chips:\n  - id: h100-sxm\n    hbm_furlongs: 3\n    source: s\n", "hbm_furlongs", "unknown key or unit"),
    ("chips:\n  - id: h100-sxm\n    hbm_gb: '80 GB'\n    source: s\n", "hbm_gb", "not a number"),
    ("chips:\n  - id: h100-sxm\n    hbm_gb: -80\n    source: s\n", "hbm_gb", "negative"),
    ("chips:\n  - id: h100-sxm\n    scaleup_gb_per_s: 900\n    source: s\n", "scaleup_gb_per_s",
     "unknown key or unit"),
    ("gpus: []\n", "gpus", "unknown section"),
])
def test_bad_catalog_file_names_file_and_key(tmp_path, body, key, problem):
    path = _write(tmp_path, body)
    with pytest.raises(CatalogError) as err:
        hardware_catalog([path])
    message = str(err.value)
    assert path in message and key in message and problem in message


def test_bad_catalog_is_one_line_exit_2(tmp_path, run_cli):
    path = _write(tmp_path, "chips:\n  - id: h100-sxm\n    hbm_gib_per_fortnight: 1\n    source: s\n")
    code, out, err = run_cli("--catalog", path, "chips")
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error:") and "hbm_gib_per_fortnight" in err
