"""A vendor_mix vendor whose migration cost comes from an audit (directory or its JSON)."""

from __future__ import annotations

import json

import pytest
import yaml
from tests.audit.trees import torch_ext_tree

from xpuplan import api
from xpuplan.audit.cost import migration_cost
from xpuplan.economics.run import examples
from xpuplan.errors import CatalogError, SpecError


def test_directory_and_json_give_the_same_cost(tmp_path):
    tree = torch_ext_tree(tmp_path / "t")
    r = api.audit(tree, targets=("neuron",))
    (tmp_path / "a.json").write_text(json.dumps(r.to_dict()))
    from_dir = migration_cost(str(tree), "aws")
    from_json = migration_cost(str(tmp_path / "a.json"), "aws")
    assert from_dir.usd == from_json.usd == pytest.approx(
        r.effort["neuron"].engineer_weeks["mid"] * r.usd_per_engineer_week)
    assert migration_cost(str(tree), "aws", 10_000.0).usd == pytest.approx(
        r.effort["neuron"].engineer_weeks["mid"] * 10_000.0)


def test_errors(tmp_path):
    tree = torch_ext_tree(tmp_path / "t")
    with pytest.raises(SpecError, match="not a migration target"):
        migration_cost(str(tree), "nvidia")
    (tmp_path / "x.json").write_text('{"effort": {}}')
    with pytest.raises(SpecError, match="effort.neuron.engineer_weeks.mid"):
        migration_cost(str(tmp_path / "x.json"), "aws")


def scenario_with_audit(tmp_path, audit_path: str, **extra) -> str:
    s = yaml.safe_load(examples()["trainium-shift"].read_text())
    v = s["vendors"][1]
    del v["migration_cost_usd"]
    v.update({"migration_audit": audit_path, **extra})
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(s))
    return str(path)


def test_vendor_mix_takes_an_audit(tmp_path):
    tree = torch_ext_tree(tmp_path / "t")
    expected = migration_cost(str(tree), "aws", 2e5).usd
    result = api.plan(scenario_with_audit(tmp_path, str(tree), usd_per_engineer_week=2e5))
    row = next(m for m in result.outputs["migration"] if m["chip"] == "trn2")
    assert row["migration_usd"] == pytest.approx(expected)
    assert row["migration_source"].startswith(f"audit of {tree} (neuron)")


def test_vendor_mix_rejects_both_costs(tmp_path):
    path = scenario_with_audit(tmp_path, str(tmp_path), migration_cost_usd=1e6)
    with pytest.raises(CatalogError, match="not both"):
        api.plan(path)
