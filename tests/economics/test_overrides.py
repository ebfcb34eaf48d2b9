"""Every economic assumption overridable: scenario `assumptions:` and `--catalog` sections,
with the catalog's sourcing rules; templates and built-in scenario text."""

from __future__ import annotations

import pytest
import yaml

from xpuplan import api
from xpuplan.catalog.economics import (
    SECTION_ALIASES,
    SECTIONS,
    USER_FILE_SECTIONS,
    economics_catalog,
    economics_record,
)
from xpuplan.catalog.hardware import ECONOMICS_SECTIONS
from xpuplan.economics.scenario import _MODELS, load_scenario
from xpuplan.errors import CatalogError

SOURCED = {"source": "our 2026 site survey", "retrieved": "2026-12-01"}


def _budget(**kw) -> dict:
    body = {"kind": "power_budget", "name": "x", "gw": 0.01, "system": "gb200-nvl72",
            "facility": "us-hyperscale-2025", "facility_life_years": 10}
    body.update(kw)
    return body


def test_sections_agree_between_loaders():
    # the hardware loader allows in a user file exactly the sections the economics loader reads
    assert set(USER_FILE_SECTIONS) == set(ECONOMICS_SECTIONS)
    assert {SECTION_ALIASES.get(s, s) for s in USER_FILE_SECTIONS} == set(SECTIONS)


def test_scenario_assumption_overrides_a_facility_figure(tmp_path):
    """PUE 1.5 instead of the record's: IT power = 10 MW / 1.5 (the rest of the record kept)."""
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(_budget(assumptions={"facility": [
        {"id": "us-hyperscale-2025", "pue": 1.5, **SOURCED}]})))
    out = api.plan(path).outputs
    assert out["it_power_w"] == pytest.approx(1e7 / 1.5)
    base = api.plan(_write(tmp_path, _budget())).outputs
    assert base["it_power_w"] == pytest.approx(1e7 / economics_record(
        "facility", "us-hyperscale-2025").pue)


def _write(tmp_path, body, name="b.yaml"):
    path = tmp_path / name
    path.write_text(yaml.safe_dump(body))
    return path


@pytest.mark.parametrize("records,key,needle", [
    ({"facility": [{"id": "us-hyperscale-2025", "pue": 1.5}]}, "facility[0].source",
     "needs its own source"),
    ({"facility": [{"id": "us-hyperscale-2025", "peu": 1.5, **SOURCED}]}, "facility[0].peu",
     "allowed keys:"),
    ({"facilities": [{"id": "x", **SOURCED}]}, "facilities", "allowed: system, facility"),
    ({"facility": [{"id": "us-hyperscale-2025", "pue": 0.5, **SOURCED}]}, "facility[0].pue",
     "greater than or equal to 1"),
])
def test_bad_assumptions_name_key_allowed_and_file(tmp_path, records, key, needle):
    path = _write(tmp_path, _budget(assumptions=records))
    with pytest.raises(CatalogError) as err:
        load_scenario(path)
    text = str(err.value)
    assert key in text and needle in text and str(path) in text


def test_catalog_file_adds_a_cost_of_capital_and_a_facility(tmp_path, run_json, run_cli):
    cat = tmp_path / "mine.toml"
    cat.write_text('[[cost_of_capital]]\nid = "ours"\nrate = 0.12\nsource = "treasury memo"\n'
                   'retrieved = "2026-12-01"\n\n[[facility]]\nid = "my-dc"\n'
                   'capex_usd_per_mw = 9e6\npue = 1.3\nelectricity_usd_per_kwh = 0.05\n'
                   'depreciation_years_systems = 4\nsource = "site quote"\n'
                   'retrieved = "2026-12-01"\n')
    assert economics_catalog([str(cat)]).record("cost_of_capital", "ours").rate == 0.12
    scen = _write(tmp_path, _budget(facility="my-dc", cost_of_capital="ours"))
    d = run_json("--catalog", str(cat), "plan", str(scen))
    assert d["outputs"]["cost_of_capital"] == 0.12
    assert d["outputs"]["it_power_w"] == pytest.approx(1e7 / 1.3)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[facility]]\nid = "my-dc"\npue = 1.3\n')
    code, _, err = run_cli("--catalog", str(bad), "plan", str(scen))
    assert code == 2 and err.count("\n") == 1 and "source" in err and str(bad) in err


@pytest.mark.parametrize("kind", list(_MODELS))
def test_templates_list_every_key_and_fill_into_a_valid_kind(kind, run_cli):
    code, out, _ = run_cli("plan", "--template", kind)
    assert code == 0 and f"kind: {kind}" in out
    for name in _MODELS[kind].model_fields:
        if name not in {"assumptions", "sources", "spreads", "kind"}:
            assert f"{name}:" in out, name
    assert isinstance(yaml.safe_load(out), dict)  # the skeleton parses as YAML


def test_show_prints_the_builtin_file(run_cli):
    code, out, _ = run_cli("plan", "--show", "trainium-shift")
    assert code == 0 and yaml.safe_load(out)["name"] == "trainium-shift"
    code, _, err = run_cli("plan", "--show", "trainium-shfit")
    assert code == 2 and "trainium-shift" in err and err.count("\n") == 1


def test_a_misplaced_figure_says_where_it_belongs(tmp_path, run_cli):
    path = _write(tmp_path, _budget(pue=1.3))
    code, _, err = run_cli("plan", str(path))
    assert code == 2 and err.count("\n") == 1
    assert "pue: unknown key (" in err and "allowed keys:" in err and "assumptions: facility:" in err
    assert str(path) in err
