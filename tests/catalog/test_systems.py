"""Systems: chips joined into domains; old chip names that denoted systems still resolve."""

from __future__ import annotations

import math
import tomllib

import numpy as np
import pytest

from xpuplan import api
from xpuplan.catalog.hardware import builtin_file
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.errors import CatalogError
from xpuplan.hardware.efficiency import chip_efficiency
from xpuplan.hardware.roofline import chip_fabric

SHIPPED = tomllib.loads(builtin_file("systems.toml").read_text())["system"]


def _record(system_id):
    return next(r for r in SHIPPED if r["id"] == system_id)


@pytest.mark.parametrize("record", SHIPPED, ids=lambda r: r["id"])
def test_every_shipped_system_names_a_known_chip_and_has_a_source(record):
    cat = hardware_catalog()
    assert record["chip"] in cat.chips
    assert record["source"] and record["retrieved"]
    s = cat.systems[record["id"]]
    if s.torus_dims:
        assert math.prod(s.torus_dims) == s.domain_chips


def test_each_chip_has_exactly_one_default_system():
    cat = hardware_catalog()
    for chip_id in cat.chips:
        defaults = [s for s in cat.systems.values() if s.chip == chip_id and s.default]
        assert len(defaults) == 1, chip_id
        assert cat.chips[chip_id].system is defaults[0]


@pytest.mark.parametrize("old_name,chip_id,system_id", [
    ("trn2-ultraserver", "trn2", "trn2-ultraserver"), ("u-trn2x64", "trn2", "trn2-ultraserver"),
    ("trn2", "trn2", "trn2.48xlarge"), ("gb200", "gb200", "gb200-nvl72"),
    ("gb200-nvl72", "gb200", "gb200-nvl72"), ("b200", "b200", "hgx-b200"),
    ("tpu-v5p", "tpu-v5p", "tpu-v5p-pod"), ("ironwood", "tpu-v7", "tpu-v7-pod")])
def test_old_names_resolve_to_chip_and_system(old_name, chip_id, system_id):
    c = api.chip(old_name)
    assert (c.id, c.system.id) == (chip_id, system_id)


def test_trn2_is_one_chip_in_two_systems_read_from_records():
    small, ultra = api.chip("trn2"), api.chip("trn2-ultraserver")
    assert small.bf16_dense_flops == ultra.bf16_dense_flops  # same silicon
    rec = _record("trn2-ultraserver")
    assert ultra.scaleup_domain_chips == rec["domain_chips"]
    # per direction: 2 links per axis x the per-axis link figure (GB/s)
    assert ultra.scaleup_bw_unidir == pytest.approx(2e9 * sum(rec["axis_link_gb_per_s_unidir"]))
    rec16 = _record("trn2.48xlarge")
    assert small.scaleup_domain_chips == rec16["domain_chips"]
    assert small.scaleup_bw_unidir == pytest.approx(
        rec16["links_per_chip"] * rec16["link_gb_per_s_unidir"] * 1e9)


def test_train_accepts_a_system_name():
    r = api.train("llama-3.1-8b", chip="trn2-ultraserver", n_chips=64)
    assert r.step_time_s > 0


def test_tpu_v4_pod_trains_llama_70b_on_1024_chips():
    r = api.train("llama-3.1-70b", chip="tpu-v4", n_chips=1024)
    assert r.step_time_s > 0 and np.isfinite(r.step_time_s)


def test_systems_json_lists_every_system(run_json):
    data = run_json("systems")
    assert {s["id"] for s in data["systems"]} == set(hardware_catalog().systems)
    for s in data["systems"]:
        for fig in s["figures"].values():
            assert fig["source"]


def _write(tmp_path, text):
    path = tmp_path / "mine.yaml"
    path.write_text(text)
    return str(path)


def test_user_system_from_existing_chip_changes_the_collective_path(tmp_path):
    # H100 silicon in a 32-GPU switched domain: a 32-rank all-reduce stays on NVLink.
    path = _write(tmp_path, """
systems:
  - id: h100-nvl32
    chip: h100-sxm
    domain_chips: 32
    topology: switch
    scaleup_gb_per_s_unidir: 450
    scaleout_gb_per_s_unidir: 50
    source: my own design
    retrieved: "2026-12-01"
""")
    cat = hardware_catalog([path])
    big, hgx = cat.chip("h100-nvl32"), cat.chip("h100-sxm")
    vendor_of = {k: v.vendor for k, v in cat.chips.items()}
    eff = chip_efficiency(hgx, vendor_of)
    fb, fh = chip_fabric(big, eff), chip_fabric(hgx, eff)
    assert (fb.domain_chips, fh.domain_chips) == (32, 8)
    from xpuplan.hardware.collectives import collective_time, ranks_per_domain
    n = np.array([32])
    t_big = collective_time("all_reduce", np.array([1e9]), n, ranks_per_domain(1, n, 32), fb)
    t_hgx = collective_time("all_reduce", np.array([1e9]), n, ranks_per_domain(1, n, 8), fh)
    # in-domain: 2·31/32·S/(B_up·η); across 4 HGX nodes the NIC share binds
    assert t_big[0] == pytest.approx(eff.scaleup_latency_s + 2 * 31 / 32 * 1e9
                                     / (450e9 * eff.scaleup_link))
    assert t_hgx[0] > t_big[0]


def test_user_system_without_source_is_rejected(tmp_path):
    path = _write(tmp_path, """
systems:
  - id: bad
    chip: h100-sxm
    domain_chips: 16
    scaleup_gb_per_s_unidir: 450
    retrieved: "2026-12-01"
""")
    with pytest.raises(CatalogError, match="source"):
        hardware_catalog([path])


def test_user_system_unknown_key_is_named(tmp_path):
    path = _write(tmp_path, """
systems:
  - id: bad
    chip: h100-sxm
    scaleup_bandwidth: 450
    source: x
    retrieved: "2026-12-01"
""")
    with pytest.raises(CatalogError, match="scaleup_bandwidth"):
        hardware_catalog([path])


def test_user_system_on_unknown_chip_is_rejected(tmp_path):
    path = _write(tmp_path, """
systems:
  - id: bad
    chip: h999
    source: x
    retrieved: "2026-12-01"
""")
    with pytest.raises(CatalogError, match="h999"):
        hardware_catalog([path])


def test_torus_dims_must_tile_the_domain(tmp_path):
    path = _write(tmp_path, """
systems:
  - id: bad
    chip: tpu-v5e
    domain_chips: 64
    topology: torus
    torus_dims: [4, 4]
    link_gb_per_s_unidir: 50
    source: x
    retrieved: "2026-12-01"
""")
    with pytest.raises(CatalogError, match="torus_dims"):
        hardware_catalog([path])


def test_user_instance_may_name_an_old_system_name(tmp_path):
    path = _write(tmp_path, """
instances:
  - id: my-ultraserver
    provider: me
    chip: trn2-ultraserver
    chips: 64
    source: my contract
    retrieved: "2026-12-01"
""")
    assert hardware_catalog([path]).instance("my-ultraserver").chip == "trn2"


def test_chip_record_fabric_keys_override_its_default_system(tmp_path):
    # An older-style user edit: the chip's own scale-up figure beats its default system's.
    path = _write(tmp_path, """
chips:
  - id: mi300x
    scaleup_gb_per_s_unidir: 896
    source: my measurement
""")
    c = hardware_catalog([path]).chip("mi300x")
    assert c.scaleup_bw_unidir == pytest.approx(896e9)
    rec = _record("mi300x-platform")  # per-link figure rescaled with the per-chip total
    assert c.system.link_bw_unidir == pytest.approx(2 * rec["link_gb_per_s_unidir"] * 1e9)
    assert c.sources["scaleup_bw_unidir"] == "my measurement"


def test_a_system_is_priced_by_its_own_instances():
    cat = hardware_catalog()
    # u-trn2x64 (the UltraServer's instance) has no public price; trn2.48xlarge has one.
    assert cat.price_for("trn2", "capacity_block", "trn2-ultraserver") is None
    inst, _ = cat.price_for("trn2", "capacity_block")
    assert inst.id == "trn2.48xlarge"


def test_no_chip_alias_shadows_another_system():
    # chip() tries chip names first: a chip alias equal to a system name must mean that
    # chip's default system, or the system could never be reached by its name.
    cat = hardware_catalog()
    for key, s in cat.systems.items():
        for name in (s.id, *s.aliases):
            assert cat.chip(name).system.id.lower() == key, name


def test_cli_train_on_an_old_system_name(run_json):
    data = run_json("train", "llama-3.1-8b", "--chip", "trn2-ultraserver", "--chips", "64")
    assert data["chip"] == "trn2" and data["step_time_s"] > 0


def test_cli_systems_table_and_unknown_name(run_cli):
    code, out, _ = run_cli("systems")
    assert code == 0 and "trn2-ultraserver" in out
    code, _, err = run_cli("train", "llama-3.1-8b", "--chip", "trn2-ultrasrever", "--chips", "64")
    assert code == 2 and "trn2-ultraserver" in err
