"""Planning: hand-checked cases per scenario kind, the LP against a hand solution,
properties, error paths and the HTML report rendered in headless Chromium."""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from xpuplan import api
from xpuplan.catalog.economics import economics_record
from xpuplan.economics.deals import spend_forecast
from xpuplan.economics.fleets import contract, power_budget
from xpuplan.economics.investment import investment
from xpuplan.economics.mix import VendorRates, solve_mix
from xpuplan.economics.mix_result import mix_result
from xpuplan.economics.scenario import (
    Contract,
    Investment,
    PowerBudget,
    SpendForecast,
    load_scenario,
)
from xpuplan.errors import CatalogError, InfeasibleError, SpecError

HOURS = 8766.0


@pytest.fixture(scope="module")
def ctx():
    return api.plan_context()


def test_contract_by_hand(ctx):
    s = Contract(kind="contract", name="t", budget_usd=1e6, years=1, chip="h100",
                 usd_per_chip_hour=2.0, utilization=1.0)
    out = contract(ctx, s).outputs
    assert out["chip_hours"] == pytest.approx(500_000)  # $1M / $2
    assert out["avg_chips"] == pytest.approx(500_000 / HOURS)  # over one 8,766 h year
    assert out["delivered_flop"] == pytest.approx(500_000 * 3600 * 989.4e12, rel=1e-3)


def test_contract_json_keys(run_json):
    d = run_json("plan", "--example", "aws-openai-contract")
    out = d["outputs"]
    for key in ("budget_usd", "years", "usd_per_chip_hour", "chip_hours", "avg_chips",
                "delivered_flop", "training_runs", "serving_tokens_per_day"):
        assert out[key] is not None and out[key] > 0, key
    assert out["chip_hours"] == pytest.approx(out["budget_usd"] / out["usd_per_chip_hour"])
    lo, mid, hi = d["interval"]["chip_hours"]
    assert lo < mid < hi


def test_power_budget_by_hand(ctx):
    # 1 MW of GB200 NVL72 racks: 1e6 / PUE 1.1 = 909,091 W IT -> 7 racks of 120 kW (504 GPUs)
    s = PowerBudget(kind="power_budget", name="t", gw=0.001, system="gb200-nvl72",
                    facility="us-hyperscale-2025", facility_life_years=10, utilization=1.0)
    out = power_budget(ctx, s).outputs
    rack = economics_record("system", "gb200-nvl72")
    assert out["systems"] == 7 and out["n_chips"] == 504
    assert out["capex_systems_usd"] == pytest.approx(7 * rack.capex_usd)
    assert out["capex_facility_usd"] == pytest.approx(11.7e6 * 1e6 / 1.1 / 1e6)
    energy = 7 * 120e3 * 1.1 * HOURS * 0.0806 / 1e3  # installed racks: W x PUE x h x $/kWh
    assert out["energy_usd_per_year"] == pytest.approx(energy)


def test_power_too_small_for_one_system(ctx):
    s = PowerBudget(kind="power_budget", name="t", gw=1e-5, system="gb200-nvl72",
                    facility="us-hyperscale-2025")
    with pytest.raises(SpecError, match="too small for one gb200-nvl72"):
        power_budget(ctx, s)


def test_budget_too_small_for_one_chip_hour(ctx):
    s = Contract(kind="contract", name="t", budget_usd=1.0, years=1, chip="h100",
                 usd_per_chip_hour=2.0)
    with pytest.raises(SpecError, match="less than one"):
        contract(ctx, s)


def _rates(price_a=2.0, price_b=1.0, migration=0.0, cap_b=np.inf, share=1.0):
    return [VendorRates("a", price_a, "t", 0.0, 100.0, np.inf, 0.0, False, max_share=share),
            VendorRates("b", price_b, "t", 0.0, 40.0, cap_b, migration, migration > 0,
                        max_share=share)]


def test_lp_matches_hand_solution():
    # Serve 1,000 tokens/day; A: $2/chip-h, 100 tokens/chip-day; B: $1, 40. Cheaper per token
    # is A ($0.020 vs $0.025), but A may hold at most 60 % of chips: x_A = 1.5 x_B and
    # 100 x_A + 40 x_B = 1000 -> x_B = 1000/190, x_A = 1500/190.
    res = solve_mix(_rates(share=0.6), 0.0, 1000.0)
    assert res["serve_chips"][0][0] == pytest.approx(1500 / 190)
    assert res["serve_chips"][0][1] == pytest.approx(1000 / 190)
    assert res["objective"] == pytest.approx(HOURS * (2 * 1500 + 1000) / 190)
    # Dual of the demand row: d cost / d T = 8766·(2·1.5 + 1)/190 per token/day.
    lp = solve_mix(_rates(share=0.6), 0.0, 1000.0, fixed_adopt={0: 1, 1: 1})
    assert lp["duals"]["serve"][0] == pytest.approx(HOURS * 4 / 190)


def test_demand_above_capacity_says_by_how_much():
    rates = [VendorRates("a", 2.0, "t", 0.0, 100.0, 5.0, 0.0, False)]
    with pytest.raises(InfeasibleError, match=r"at most 50% of it can be met \(50% short\)"):
        mix_result(rates, 0.0, 1000.0)


@settings(max_examples=25, deadline=None)
@given(price=st.floats(0.5, 5.0), bump=st.floats(1.0, 3.0), share=st.floats(0.5, 1.0))
def test_raising_a_price_never_raises_its_share(price, bump, share):
    def share_b(p):
        out = mix_result(_rates(price_b=p, share=share), 0.0, 1000.0).outputs["vendors"]
        return out[1]["share_first_year"]

    assert share_b(price * bump) <= share_b(price) + 1e-9


@settings(max_examples=25, deadline=None)
@given(migration=st.floats(1.0, 1e5), price_b=st.floats(0.1, 3.0))
def test_zero_migration_cost_never_costlier(migration, price_b):
    free = solve_mix(_rates(price_b=price_b, migration=0.0), 0.0, 1000.0)["objective"]
    paid = solve_mix(_rates(price_b=price_b, migration=migration), 0.0, 1000.0)["objective"]
    assert free <= paid + 1e-6


@settings(max_examples=25, deadline=None)
@given(budget=st.floats(1e5, 1e10), factor=st.floats(1.0, 10.0))
def test_larger_budget_never_buys_less(budget, factor):
    c = api.plan_context()
    small = Contract(kind="contract", name="t", budget_usd=budget, years=2, chip="b200")
    big = Contract(kind="contract", name="t", budget_usd=budget * factor, years=2, chip="b200")
    assert (contract(c, big).outputs["chip_hours"]
            >= contract(c, small).outputs["chip_hours"])


def test_investment_by_hand(ctx):
    # I = 10, C = 50 over 5 years, no discounting: investee 10 − 50 = −40; investor at 50 %
    # margin −10 + 25 = 15; effective discount on compute = I / C = 20 %.
    s = Investment(kind="investment", name="t", investor="X", investee="Y", investment_usd=10,
                   commitment_usd=50, years=5, investor_gross_margin=0.5, discount_rate=0.0)
    out = investment(ctx, s).outputs
    assert out["effective_discount"] == pytest.approx(0.2)
    assert out["investee_npv_usd"] == pytest.approx(-40)
    assert out["investor_npv_usd"] == pytest.approx(15)
    assert [f["purchases_usd"] for f in out["cash_flows"]] == pytest.approx([0, 10, 10, 10, 10, 10])


def test_forecast_by_hand(ctx):
    s = SpendForecast(kind="spend_forecast", name="t", start_year=2026, years=3, chip="h100",
                      usd_per_chip_hour=2.0, base_chips=100, demand_growth_per_year=4.0,
                      flop_per_usd_doubling_years=2.0)
    years = spend_forecast(ctx, s).outputs["years"]
    assert years[0]["spend_usd"] == pytest.approx(100 * HOURS * 2.0)
    assert years[1]["spend_usd"] / years[0]["spend_usd"] == pytest.approx(4 / 2**0.5)


@pytest.mark.parametrize("body,key,needle", [
    ({"kind": "contract", "name": "x", "budget_usd": 1e6, "years": 1, "chip": "h100",
      "budgett": 5}, "budgett", "allowed keys:"),
    ({"kind": "contrakt", "name": "x"}, "kind", "allowed: contract"),
    ({"kind": "contract", "name": "x", "budget_usd": 1e6, "years": 1, "chip": "h100",
      "usd_per_chip_hour": -2}, "usd_per_chip_hour", "greater than 0"),
    ({"kind": "vendor_mix", "name": "x", "vendors": [{"chip": "h100", "colour": "red"}],
      "max_share": 0.5}, "vendors.0.colour", "allowed keys: capacity_chips, chip"),
    ({"kind": "vendor_mix", "name": "x", "vendors": [{"chip": "h100"}], "max_share": 1.5},
     "max_share", "less than or equal to 1"),
])
def test_bad_scenarios_name_the_key(tmp_path, body, key, needle):
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump(body))
    with pytest.raises(CatalogError) as err:
        load_scenario(path)
    assert key in str(err.value) and needle in str(err.value)


def test_unknown_example_and_chip_are_one_line(run_cli, tmp_path):
    code, out, err = run_cli("plan", "--example", "nvidia-10gwh")
    assert code == 2 and "nvidia-10gw" in err and err.count("\n") == 1
    path = tmp_path / "s.yaml"
    path.write_text(yaml.safe_dump({"kind": "contract", "name": "x", "budget_usd": 1e6,
                                    "years": 1, "chip": "h1OO"}))
    code, out, err = run_cli("plan", str(path))
    assert code == 2 and "h100" in err


@pytest.mark.parametrize("name", ["aws-openai-contract", "nvidia-10gw", "trainium-shift",
                                  "nvidia-investment-loop", "compute-spend-forecast",
                                  "own-silicon-margin", "openai-deal-timeline",
                                  "owned-cost-gb200-vs-h100"])
def test_every_example_runs_with_sources(name, run_json):
    d = run_json("plan", "--example", name)
    assert d["explain"] and d["sources"] and d["outputs"]
    json.dumps(d, allow_nan=False)  # strict JSON: no NaN or Infinity


def test_report_renders_charts_in_headless_chromium(tmp_path, run_cli):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (.ci/run installs it)")
    report = tmp_path / "report.html"
    code, _, err = run_cli("plan", "--example", "trainium-shift", "--report", str(report))
    assert code == 0, err
    shot = tmp_path / "shot.png"
    subprocess.run([browser, "--headless", "--no-sandbox", "--disable-gpu",
                    f"--screenshot={shot}", "--window-size=1200,4000",
                    "--virtual-time-budget=5000", report.as_uri()],
                   check=True, capture_output=True, timeout=120)
    from PIL import Image

    pixels = np.asarray(Image.open(shot).convert("RGB"), dtype=float)
    # Plotly draws coloured bars below the KPI summary and the input table: the page holds
    # many non-grey pixels, not just text.
    saturation = pixels.max(axis=2) - pixels.min(axis=2)
    assert (saturation > 60).mean() > 0.01


def test_unreadable_and_malformed_scenario_files(run_cli, tmp_path):
    code, _, err = run_cli("plan", str(tmp_path / "missing.yaml"))
    assert code == 2 and err == f"error: {tmp_path / 'missing.yaml'}: cannot read file (No such " \
                                "file or directory)\n"
    broken = tmp_path / "broken.yaml"
    broken.write_text("kind: contract\nchips: [h100,\n")
    code, _, err = run_cli("plan", str(broken))
    assert code == 2 and "not valid yaml" in err and "(line 3, column 1)" in err


def test_serving_unit_is_the_best_per_chip_that_meets_the_slo():
    # The planner serves on the fewest chips that hold the weights or 2x/4x/8x that, whichever
    # gives the most output tokens/s per chip within the SLO (a tight TPOT can need more TP).
    from xpuplan.api.planning import SERVING_UNIT_DOUBLINGS
    from xpuplan.economics.scenario import ServingJob
    from xpuplan.errors import XpuplanError

    job = ServingJob(model="llama-3.1-70b", tpot_s=0.03)
    chosen = api.plan_context().serve(job, "h100")
    assert chosen.tpot_s <= 30e-3
    fewest = api.serve_problem("llama-3.1-70b", chip="h100", n_chips=None, weights="fp8")[0].n_chips
    for k in range(SERVING_UNIT_DOUBLINGS + 1):
        try:
            other = api.infer("llama-3.1-70b", chip="h100", n_chips=fewest * 2**k, tpot_s=0.03, weights="fp8")
        except XpuplanError:
            continue
        assert chosen.output_tokens_per_s_per_chip >= other.output_tokens_per_s_per_chip
