"""Deals as written: tranches per GW, equity stake, both sides' NPVs, the circular share; the
deals view; the deal timeline against a claim."""

from __future__ import annotations

import json

import pytest

from xpuplan import api
from xpuplan.catalog.economics import economics, economics_record
from xpuplan.economics.investment import deal_timeline, investment
from xpuplan.economics.scenario import DealTimeline, Investment
from xpuplan.errors import SpecError

CTX = api.plan_context()
ANNUITY_8PCT_5Y = sum(1.08 ** -t for t in range(1, 6))  # 3.99271


def _loi(**kw):
    base = dict(kind="investment", name="t", investor="NVIDIA", investee="OpenAI",
                investment_usd=100e9, commitment_usd=350e9, years=5,
                investor_gross_margin=0.75, discount_rate=0.08)
    base.update(kw)
    return Investment(**base)


def test_upfront_vs_per_gw_tranches_by_hand():
    """LOI 2025-09-22: NVIDIA invests 'progressively as each gigawatt is deployed'. With
    10 GW over 5 years, $70B of purchases and $20B of investment each year: paid upfront the
    effective discount is 100 / (70 x 3.99271) = 35.8 %; per GW both move together, so it is
    I / C = 100 / 350 = 28.6 % whatever the discount rate."""
    upfront = investment(CTX, _loi()).outputs
    per_gw = investment(CTX, _loi(tranches="per_gw")).outputs
    assert upfront["effective_discount"] == pytest.approx(100 / (70 * ANNUITY_8PCT_5Y))
    assert upfront["effective_discount"] == pytest.approx(0.358, abs=5e-4)
    assert per_gw["effective_discount"] == pytest.approx(100 / 350)
    assert [c["investment_usd"] for c in per_gw["cash_flows"]] == pytest.approx(
        [0, 20e9, 20e9, 20e9, 20e9, 20e9])
    # Investor cash each year -20 + 0.75 x 70 = 32.5 ($B); investee 20 - 70 = -50.
    assert per_gw["investor_npv_usd"] == pytest.approx(32.5e9 * ANNUITY_8PCT_5Y)
    assert per_gw["investee_npv_usd"] == pytest.approx(-50e9 * ANNUITY_8PCT_5Y)
    assert per_gw["investor_npv_with_equity_at_cost_usd"] == pytest.approx(
        per_gw["investor_npv_usd"] + 20e9 * ANNUITY_8PCT_5Y)
    assert per_gw["circular_share"] == pytest.approx(100 / 350)


def test_a_ramp_weights_tranches_and_purchases_by_gw():
    out = investment(CTX, _loi(tranches="per_gw", gw_per_year=[1, 3, 6], years=None,
                                discount_rate=0.0)).outputs
    assert out["years"] == 3
    assert [c["purchases_usd"] for c in out["cash_flows"]] == pytest.approx(
        [0, 35e9, 105e9, 210e9])
    assert [c["investment_usd"] for c in out["cash_flows"]] == pytest.approx(
        [0, 10e9, 30e9, 60e9])


def test_the_builtin_loop_reads_the_deal_record():
    r = api.plan(example="nvidia-investment-loop")
    deal = economics_record("deal", "nvidia-openai-loi-2025")
    out = r.outputs
    assert out["tranches"] == deal.tranches == "per_gw"
    assert out["investment_usd"] == deal.investment_usd
    assert out["equity_stake"] == pytest.approx(deal.investment_usd
                                                / deal.post_money_valuation_usd)
    assert out["effective_discount"] == pytest.approx(out["investment_usd"]
                                                      / out["commitment_usd"])
    assert any(f"{out['effective_discount']:.1%}" in line for line in r.explain)
    json.dumps(r.to_dict(), allow_nan=False)


def test_deals_view_lists_every_record_and_fits_80_columns(run_cli, run_json, monkeypatch):
    d = run_json("deals")
    assert {r["id"] for r in d["deals"]} == set(economics()["deal"])
    monkeypatch.setenv("COLUMNS", "80")
    from xpuplan.views import terminal

    monkeypatch.setattr(terminal.console, "width", 80)
    code, out, _ = run_cli("deals")
    assert code == 0
    assert all(len(line) <= 80 for line in out.splitlines())
    for deal_id in economics()["deal"]:
        assert deal_id in out  # ids (what a user types) are never cut


def test_timeline_by_hand():
    """AWS/OpenAI: $38B over 7 years from 2026 = $5.43B a year; 2026-2029 holds 4/7 of it."""
    s = DealTimeline(kind="deal_timeline", name="t", window_start_year=2026, window_years=4,
                     claim_usd=100e9, deals=[{"deal": "aws-openai-2025", "start_year": 2026}])
    out = deal_timeline(CTX, s).outputs
    assert [r["year"] for r in out["timeline"]] == list(range(2026, 2033))
    assert out["timeline"][0]["AWS_usd"] == pytest.approx(38e9 / 7)
    assert out["window_total_usd"] == pytest.approx(38e9 * 4 / 7)
    assert out["claim_met"] is False


def test_timeline_gw_priced_deal_and_errors():
    per_gw = economics_record("gw_cost", "morgan-stanley-tpu-v7-2026").value_usd_per_gw
    s = DealTimeline(kind="deal_timeline", name="t", window_start_year=2026, window_years=4,
                     deals=[{"deal": "broadcom-openai-2025", "start_year": 2026,
                             "gw_cost": "morgan-stanley-tpu-v7-2026"}])
    assert deal_timeline(CTX, s).outputs["total_usd"] == pytest.approx(10 * per_gw)
    no_value = DealTimeline(kind="deal_timeline", name="t", window_start_year=2026,
                            window_years=4, deals=[{"deal": "broadcom-openai-2025",
                                                    "start_year": 2026}])
    with pytest.raises(SpecError, match="gw_cost"):
        deal_timeline(CTX, no_value)
    no_term = DealTimeline(kind="deal_timeline", name="t", window_start_year=2026,
                           window_years=4, deals=[{"deal": "microsoft-openai-azure-2025",
                                                   "start_year": 2026}])
    with pytest.raises(SpecError, match="years"):
        deal_timeline(CTX, no_term)


def test_builtin_timeline_checks_the_claim():
    out = api.plan(example="openai-deal-timeline").outputs
    assert out["window"] == [2026, 2029]
    assert out["window_total_usd"] == pytest.approx(sum(
        r["total_usd"] for r in out["timeline"] if 2026 <= r["year"] <= 2029))
    assert out["claim_met"] == (out["window_total_usd"] >= out["claim_usd"])


def test_dated_tranches_by_hand():
    """Half of I at signing (year 0), half in year 2; C even over 2 years; r = 10 %:
    PV(I) = 50 + 50/1.21, PV(C) = 175/1.1 + 175/1.21 (I = 100, C = 350)."""
    out = investment(CTX, _loi(years=2, tranches="dated", tranche_shares_by_year=[0.5, 0, 0.5],
                               discount_rate=0.10)).outputs
    pv_i, pv_c = 50e9 + 50e9 / 1.21, 175e9 / 1.1 + 175e9 / 1.21
    assert out["effective_discount"] == pytest.approx(pv_i / pv_c)
    with pytest.raises(ValueError, match="sum to 1"):
        _loi(tranches="dated", tranche_shares_by_year=[0.5, 0.2])
    with pytest.raises(ValueError, match="dated goes with"):
        _loi(tranches="dated")
