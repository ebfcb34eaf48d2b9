"""Owned cost: the capital recovery factor and the per-chip breakdown against hand-worked
cases, named margins, and the cost of capital override rules."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xpuplan import api
from xpuplan.catalog.economics import economics_record
from xpuplan.economics.fleets import power_budget
from xpuplan.economics.owned import (
    HOURS_PER_YEAR,
    OwnedInputs,
    capital_recovery_factor,
    margins,
    owned_cost,
)
from xpuplan.economics.scenario import PowerBudget
from xpuplan.errors import SpecError


def test_crf_matches_the_annuity_table():
    """Annuity formula A = P·r(1+r)^n/((1+r)^n − 1) (Brealey-Myers-Allen ch. 2; NREL/TP-462-
    5173 eq. 4-4). By hand: r = 10 %, n = 5: 1.1^5 = 1.61051, 0.161051/0.61051 = 0.263797."""
    assert capital_recovery_factor(0.10, 5) == pytest.approx(0.263797, abs=1e-6)
    assert capital_recovery_factor(0.0, 5) == pytest.approx(0.2)


@settings(max_examples=50, deadline=None)
@given(r=st.floats(0.001, 0.5), n=st.floats(1.0, 30.0))
def test_crf_repays_the_principal(r, n):
    """Present value of n level payments CRF at rate r is 1 (integer n), and CRF > 1/n."""
    k = int(n)
    crf = capital_recovery_factor(r, k)
    assert sum(crf / (1 + r) ** t for t in range(1, k + 1)) == pytest.approx(1.0)
    assert crf > 1.0 / k


def _inputs(**kw):
    base = dict(rack_capex_per_chip_usd=40_000.0, it_watts_per_chip=1_000.0, pue=1.2,
                electricity_usd_per_kwh=0.10, facility_usd_per_w=10.0, life_systems_years=5,
                life_facility_years=10, cost_of_capital=0.10, network_capex_fraction=0.25,
                storage_capex_fraction=0.05, non_power_opex_usd_per_kw_year=300.0,
                utilization=0.5, sell_through=0.8)
    base.update(kw)
    return OwnedInputs(**base)


def test_owned_cost_by_hand():
    """Hand-worked (annuity formula, NREL/TP-462-5173 eq. 4-4): $40k rack share, 1 kW, r = 10 %.
    CRF(10 %, 5) = 0.263797 -> systems 10,551.9; network 25 % -> 2,638.0; storage 5 % -> 527.6;
    facility $10/W x 1,000 W x CRF(10 %, 10) = 10,000 x 0.162745 = 1,627.5; energy 1 kW x
    0.5 x 1.2 x 8,766 h x $0.10 = 526.0; non-power 1 kW x $300 = 300. Total 16,171.0/yr."""
    o = owned_cost(_inputs())
    b = o["breakdown_usd_per_chip_year"]
    assert b["capital/systems"] == pytest.approx(10_551.9, abs=0.1)
    assert b["capital/network"] == pytest.approx(2_638.0, abs=0.1)
    assert b["capital/storage"] == pytest.approx(527.6, abs=0.1)
    assert b["capital/facility"] == pytest.approx(1_627.5, abs=0.1)
    assert b["opex/energy"] == pytest.approx(525.96, abs=0.01)
    assert b["opex/non_power"] == pytest.approx(300.0)
    assert sum(b.values()) == pytest.approx(o["total_usd_per_chip_year"])
    assert o["total_usd_per_chip_year"] == pytest.approx(16_171.0, abs=0.2)
    assert o["usd_per_chip_hour_sold"] == pytest.approx(16_171.0 / (HOURS_PER_YEAR * 0.8),
                                                        rel=1e-4)
    # Straight-line (no cost of capital) is cheaper: 40k x 1.3 / 5 + 10k / 10 + 526 + 300.
    assert o["straight_line_usd_per_chip_hour"] * HOURS_PER_YEAR == pytest.approx(12_226.0,
                                                                                  abs=0.1)


def test_margins_are_named_and_defined():
    o = owned_cost(_inputs())
    m = margins(o, price_usd_per_chip_hour=4.0, sell_through=0.8)
    held = o["usd_per_chip_hour_held"]
    assert m["margin/price_over_owned_cost"]["value"] == pytest.approx(1 - held / 4.0)
    assert m["margin/gross_at_sell_through"]["value"] == pytest.approx(
        1 - o["total_usd_per_chip_year"] / (4.0 * HOURS_PER_YEAR * 0.8))
    assert all(v["definition"] for v in m.values())


@settings(max_examples=30, deadline=None)
@given(r=st.floats(0.0, 0.3), bump=st.floats(0.001, 0.2))
def test_owned_cost_rises_with_the_cost_of_capital(r, bump):
    low = owned_cost(_inputs(cost_of_capital=r))["total_usd_per_chip_year"]
    high = owned_cost(_inputs(cost_of_capital=r + bump))["total_usd_per_chip_year"]
    assert high > low


def test_power_budget_uses_the_catalog_basis():
    """1 MW of GB200 racks: capital per chip = rack/72 x (1 + network + storage) x CRF."""
    ctx = api.plan_context()
    s = PowerBudget(kind="power_budget", name="t", gw=0.001, system="gb200-nvl72",
                    facility="us-hyperscale-2025", facility_life_years=10, utilization=1.0)
    out = power_budget(ctx, s).outputs
    basis = economics_record("owned_cost", "hyperscaler-2025")
    rate = economics_record("cost_of_capital", basis.cost_of_capital).rate
    rack = economics_record("system", "gb200-nvl72")
    parts = out["annual_cost_breakdown_usd_per_year"]
    crf = capital_recovery_factor(rate, 5)
    assert parts["capital/systems"] == pytest.approx(out["n_chips"] * rack.capex_usd / 72 * crf)
    assert parts["capital/network"] == pytest.approx(parts["capital/systems"]
                                                     * basis.network_capex_fraction)
    assert parts["capital/facility"] == pytest.approx(out["capex_facility_usd"]
                                                      * capital_recovery_factor(rate, 10))
    assert sum(parts.values()) == pytest.approx(out["annualised_usd_per_year"])
    assert out["owned_usd_per_chip_hour"] > out["straight_line_usd_per_chip_hour"]
    assert out["cost_of_capital"] == rate


def test_a_rate_without_a_source_is_refused():
    ctx = api.plan_context()
    s = PowerBudget(kind="power_budget", name="t", gw=0.001, system="gb200-nvl72",
                    facility="us-hyperscale-2025", cost_of_capital=0.12)
    with pytest.raises(SpecError, match="sources.cost_of_capital"):
        power_budget(ctx, s)
    sourced = PowerBudget(kind="power_budget", name="t", gw=0.001, system="gb200-nvl72",
                          facility="us-hyperscale-2025", cost_of_capital=0.12,
                          sources={"cost_of_capital": "our treasury, 2026"})
    assert power_budget(ctx, sourced).outputs["cost_of_capital"] == 0.12
    named = PowerBudget(kind="power_budget", name="t", gw=0.001, system="gb200-nvl72",
                        facility="us-hyperscale-2025", cost_of_capital="neocloud-2025")
    assert power_budget(ctx, named).outputs["cost_of_capital"] == economics_record(
        "cost_of_capital", "neocloud-2025").rate


def test_gb200_over_h100_owned_cost_on_one_capex_basis():
    """On SemiAnalysis's capex for both racks (Aug 2025: $3.92M per NVL72, $250,866 per
    8-GPU server) the owned-cost ratio follows from the breakdown: capital scales with
    capex per GPU (1.73x), power-driven lines with watts per GPU (1,667 W vs 1,275 W)."""
    r = api.plan(example="owned-cost-gb200-vs-h100")
    gb, h = r.outputs["options"]
    ratio = gb["owned_usd_per_chip_hour"] / h["owned_usd_per_chip_hour"]
    parts_gb, parts_h = gb["breakdown_usd_per_chip_year"], h["breakdown_usd_per_chip_year"]
    assert parts_gb["capital/systems"] / parts_h["capital/systems"] == pytest.approx(
        (3916824 / 72) / (250866 / 8))
    assert parts_gb["opex/energy"] / parts_h["opex/energy"] == pytest.approx(
        (120 / 72) / (10.2 / 8))
    assert parts_gb["capital/network"] == 0 == parts_h["capital/network"]  # in the price
    assert 1.5 < ratio < 1.75  # published TCO analyses: about 1.6
