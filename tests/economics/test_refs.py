"""Scenario values read from economics records (`{ref: SECTION:ID.FIELD}`): the value is the
record's, its source lands in `sources`, an explicit value is an override, and a reference
to nothing is one line naming the file, the key and the known names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from xpuplan import api
from xpuplan.catalog.economics import SECTIONS, economics_catalog
from xpuplan.catalog.records import read_table_file
from xpuplan.economics.refs import record_value, scenario_refs
from xpuplan.economics.run import examples
from xpuplan.economics.scenario import load_scenario, scenario_from_data
from xpuplan.economics.solve import get_path
from xpuplan.errors import SpecError

SOURCED = {"source": "our 2026 note", "retrieved": "2026-12-01"}


def _timeline(**kw) -> dict:
    """A deal timeline: no model runs, so plans of it are quick."""
    body = {"kind": "deal_timeline", "name": "t", "window_start_year": 2026,
            "window_years": 4, "deals": [{"deal": "aws-openai-2025", "start_year": 2026}]}
    return body | kw


def _record_field(ref: str):
    section, _, rest = ref.partition(":")
    name, _, field = rest.rpartition(".")
    rec = economics_catalog().record(section, name)
    return rec, field, getattr(rec, field)


def _refs_of_shipped():
    for name, path in examples().items():
        for key, node in scenario_refs(read_table_file(path)).items():
            yield pytest.param(path, key, node["ref"], id=f"{name}:{key}")


@pytest.mark.parametrize("path,key,ref", list(_refs_of_shipped()))
def test_shipped_reference_is_the_records_value_with_its_source(path, key, ref):
    rec, field, value = _record_field(ref)
    s = load_scenario(path)
    assert value is not None and get_path(s.model_dump(), key, "solve") == value
    source = s.sources[key]
    assert source.startswith(f"economics {ref.partition(':')[0]} {rec.id}.{field} = ")
    assert (rec.sources.get(field) or rec.source) in source


def test_every_record_copied_into_a_shipped_scenario_is_a_reference():
    """The figures the issue found copied are read from their records now."""
    found = {(path.stem, key): node["ref"] for path in examples().values()
             for key, node in scenario_refs(read_table_file(path)).items()}
    assert found[("aws-openai-contract", "budget_usd")] == "deal:aws-openai-2025.value_usd"
    assert found[("aws-openai-contract", "years")] == "deal:aws-openai-2025.years"
    assert found[("own-silicon-margin", "options[1].usd_per_gw")].startswith(
        "gw_cost:morgan-stanley-tpu-v7-2026.")
    assert found[("trainium-shift", "discount_rate")] == "cost_of_capital:hyperscaler-2025.rate"


def test_explicit_value_overrides_the_record_and_says_so():
    years = _record_field("deal:aws-openai-2025.years")[2]
    s = scenario_from_data({"kind": "contract", "name": "c", "chip": "h100",
                            "budget_usd": {"ref": "deal:aws-openai-2025.value_usd"},
                            "years": {"ref": "deal:aws-openai-2025.years", "value": years - 2},
                            "sources": {"years": "only five years are firm"}})
    assert s.years == years - 2
    assert s.sources["years"].startswith(f"override: {years - 2:g} given instead of economics "
                                         f"deal aws-openai-2025.years = {years:g}")
    assert s.sources["years"].endswith("; only five years are firm")
    assert s.budget_usd == _record_field("deal:aws-openai-2025.value_usd")[2]


def test_reference_inside_an_assumption_record_reads_the_catalog():
    """An override record's figure may itself come from another record."""
    power = _record_field("system:dgx-h100.power_kw")[2]
    s = scenario_from_data(_timeline(assumptions={"system": [
        {"id": "mine", "chip": "h100-sxm", "chips": 8, "capex_usd": 3e5,
         "power_kw": {"ref": "system:dgx-h100.power_kw"}, **SOURCED}]}))
    rec = s.assumptions["system"][0]
    assert rec["power_kw"] == power
    assert rec["sources"]["power_kw"].startswith("economics system dgx-h100.power_kw")


def test_reference_reads_a_record_defined_in_the_scenario_and_user_catalog(tmp_path):
    body = _timeline(claim_usd={"ref": "deal:ours.value_usd"}, assumptions={"deal": [
        {"id": "ours", "value_usd": 7e9, "years": 2, **SOURCED}]})
    assert scenario_from_data(body).claim_usd == 7e9
    catalog = tmp_path / "mine.toml"
    catalog.write_text('[[deal]]\nid = "theirs"\nvalue_usd = 9e9\nsource = "x"\n'
                       'retrieved = "2026-12-01"\n')
    body = _timeline(claim_usd={"ref": "deal:theirs.value_usd"})
    assert scenario_from_data(body, catalog_files=[str(catalog)]).claim_usd == 9e9
    with pytest.raises(SpecError, match="unknown deal id 'theirs'"):
        scenario_from_data(body)


@pytest.mark.parametrize("ref,needle", [
    ("deal:aws-openai-2024.value_usd", "unknown deal id 'aws-openai-2024'; did you mean "
     "aws-openai-2025,"),
    ("deal:aws-openai-2025.budget_usd", "deal aws-openai-2025 has no figure 'budget_usd'; "
     "did you mean value_usd?"),
    ("deal:aws-openai-2025.qqq", "has no figure 'qqq'; known: announced, buyer, hardware, "
     "seller, value_usd, years"),
    ("deal:aws-openai-2025.year", "has no figure 'year'; did you mean years,"),
    ("deals:aws-openai-2025.value_usd", "unknown section 'deals'; allowed: "
     + ", ".join(SECTIONS)),
    ("aws-openai-2025", "write SECTION:ID.FIELD"),
])
def test_reference_to_nothing_names_file_key_and_known_names(tmp_path, ref, needle):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(_timeline(claim_usd={"ref": ref})))
    with pytest.raises(SpecError) as err:
        load_scenario(path)
    text = str(err.value)
    assert text.startswith(f"{path}: claim_usd.ref = ") and needle in text
    assert "\n" not in text


def test_known_ids_are_listed_when_nothing_is_close(tmp_path):
    with pytest.raises(SpecError) as err:
        scenario_from_data(_timeline(claim_usd={"ref": "gw_cost:zzz.value_usd_per_gw"}))
    known = sorted(economics_catalog().section("gw_cost"))
    assert f"known: {', '.join(known[:3])}" in str(err.value)


def test_a_reference_takes_only_ref_and_value():
    with pytest.raises(SpecError, match=r"claim_usd.why = .*only ref and value"):
        scenario_from_data(_timeline(claim_usd={"ref": "deal:aws-openai-2025.value_usd",
                                                "why": "x"}))


def test_cli_reference_error_is_one_line_exit_2(run_cli, tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(_timeline(claim_usd={"ref": "deal:nope.value_usd"})))
    code, out, err = run_cli("plan", str(path), "--json")
    assert code == 2 and out == "" and err.count("\n") == 1
    assert err.startswith(f"error: {path}: claim_usd.ref") and "aws-openai-2025" in err


def test_plan_output_carries_the_provenance():
    """`plan --json` of a referencing scenario shows the record in sources and input_table."""
    value = _record_field("deal:oracle-openai-2025.value_usd")[2]
    r = api.plan(_timeline(claim_usd={"ref": "deal:oracle-openai-2025.value_usd"}))
    assert r.outputs["claim_usd"] == value
    row = next(x for x in r.input_table if x["input"] == "claim_usd")
    assert row["value"] == value and row["source"].startswith(
        "economics deal oracle-openai-2025.value_usd")


def test_readme_reference_examples_resolve():
    """The README's `{ref: ...}` examples name records and figures that exist."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    refs = [r for r in re.findall(r'\{ref: "([^"]+)"', text) if r != "SECTION:ID.FIELD"]
    assert len(refs) >= 4
    for ref in refs:
        value, line = record_value(economics_catalog(), ref, "README.md", "example")
        assert value == _record_field(ref)[2] and line.startswith("economics ")
