"""Vendor mix over years: a small mix solved by hand, payback consistency, shares, and the
explanation agreeing with the tables figure for figure."""

from __future__ import annotations

import re

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from result_numbers import numbers_in  # beside this file

from xpuplan import api
from xpuplan.economics.mix import Horizon, VendorRates
from xpuplan.economics.mix_result import mix_result
from xpuplan.units import fmt_usd

HOURS = 8766.0


def _pair(migration=1000.0, fixed=0.5, price_b=1.0, fade=1.0):
    a = VendorRates("a", 2.0, "t", 0.0, 100.0, np.inf, 0.0, False, incumbent=True,
                    max_share=1 - fixed if fixed is not None else 1.0,
                    min_share=1 - fixed if fixed is not None else 0.0)
    b = VendorRates("b", price_b, "t", 0.0, 60.0, np.inf, migration, migration > 0,
                    shortfall=0.5, shortfall_fade_years=fade, migration_years=2.0,
                    min_share=fixed or 0.0, max_share=fixed if fixed is not None else 1.0)
    return [a, b]


def test_two_year_mix_by_hand():
    """Hand-solved: serve 1,200 tokens/day; A (incumbent) $2/chip-h, 100 tokens/chip-day; B $1,
    60 tokens/chip-day at maturity, half lost in year 1 (fading to none by year 2), B fixed at
    50 % of chips, migration $1,000 over 2 years, r = 0.
    Year 1: 100x + 0.5·60x = 1200 -> x = 120/13 chips each, cost 8766·3·x + 500.
    Year 2: 100x + 60x = 1200 -> x = 7.5, cost 8766·3·7.5 + 500.
    Staying on A: 12 chips, 8766·2·12 a year. Savings y1 < 0, y2 > 0, sum < 0: no payback
    within 2 years, though year 2 saves money."""
    out = mix_result(_pair(), 0.0, 1200.0, Horizon(2, 0.0)).outputs
    y1, y2 = out["years"]
    assert y1["a_chips"] == pytest.approx(120 / 13) and y1["b_chips"] == pytest.approx(120 / 13)
    assert y2["b_chips"] == pytest.approx(7.5)
    assert y1["cost_usd"] == pytest.approx(HOURS * 3 * 120 / 13 + 500)
    assert y2["cost_usd"] == pytest.approx(HOURS * 3 * 7.5 + 500)
    stay = HOURS * 2 * 12
    assert y1["staying_put_usd"] == pytest.approx(stay)
    assert out["npv_savings_usd"] == pytest.approx(2 * stay - y1["cost_usd"] - y2["cost_usd"])
    assert out["payback_status"] == "not within the horizon" and out["payback_years"] is None
    assert y2["savings_usd"] > 0


def test_discounting_and_a_payback_by_hand():
    """Three years at r = 10 % with B fixed at 50 %: d_y = 1.1^-y; NPV = Σ d_y cost_y, and the
    payback year is where the discounted cumulative savings cross zero."""
    out = mix_result(_pair(migration=1000.0, price_b=0.5), 0.0, 1200.0,
                     Horizon(3, 0.10)).outputs
    costs = [r["cost_usd"] for r in out["years"]]
    assert out["npv_cost_usd"] == pytest.approx(sum(c / 1.1 ** (y + 1)
                                                    for y, c in enumerate(costs)))
    cum = [r["cumulative_discounted_savings_usd"] for r in out["years"]]
    k = next(i for i, c in enumerate(cum) if c >= 0)
    assert out["payback_status"] == "pays back"
    assert k <= out["payback_years"] <= k + 1


@settings(max_examples=25, deadline=None)
@given(migration=st.floats(10.0, 1e6), price_b=st.floats(0.2, 3.0),
       fixed=st.sampled_from([None, 0.3, 0.5]), horizon=st.integers(1, 5))
def test_payback_words_follow_thenumbers_in(migration, price_b, fixed, horizon):
    out = mix_result(_pair(migration, fixed, price_b), 0.0, 1200.0,
                     Horizon(horizon, 0.08)).outputs
    last = out["years"][-1]
    status = out["payback_status"]
    if status == "never":
        assert last["savings_usd"] <= 0
    if status == "not within the horizon":
        assert last["savings_usd"] > 0 and last["cumulative_discounted_savings_usd"] < 0
    if status == "pays back":
        assert 0 <= out["payback_years"] <= horizon
        assert last["cumulative_discounted_savings_usd"] >= -1e-6
    if fixed is None and status != "no migration":  # free choice: adopt only if it pays
        assert out["npv_savings_usd"] >= -1e-6


def test_fixed_and_min_shares_hold_every_year():
    out = mix_result(_pair(fixed=0.3), 0.0, 1200.0, Horizon(3, 0.0)).outputs
    assert all(r["b_share"] == pytest.approx(0.3) for r in out["years"])
    rates = _pair(fixed=None)
    rates[1] = VendorRates(**{**vars(rates[1]), "min_share": 0.4, "price": 50.0})
    out = mix_result(rates, 0.0, 1200.0, Horizon(2, 0.0)).outputs
    assert all(r["b_share"] >= 0.4 - 1e-9 for r in out["years"])


def _agree(explain: list[str], outputs: dict) -> None:
    """Every dollar figure in the text is fmt_usd of an output number (or minus one), and
    every percentage is an output share or rate (as the text rounds it)."""
    nums = numbers_in(outputs)
    money = {fmt_usd(x) for x in nums} | {fmt_usd(-x) for x in nums}
    percents = {f"{x:.0%}" for x in nums} | {f"{x:.1%}" for x in nums}
    for line in explain:
        for token in re.findall(r"-?\$[0-9.,]+[kMBT]?", line):
            assert token in money, (token, line)
        for token in re.findall(r"[0-9.]+%", line):
            assert token in percents, (token, line)


def test_explanation_agrees_with_the_tables_by_hand_case():
    r = mix_result(_pair(), 0.0, 1200.0, Horizon(2, 0.0))
    _agree(r.explain, r.outputs)


def test_builtin_trainium_shift_is_like_for_like_and_consistent():
    r = api.plan(example="trainium-shift")
    o = r.outputs
    assert {v["price_term"] for v in o["vendors"]} == {"capacity_block"}
    trn2 = next(v for v in o["vendors"] if v["chip"] == "trn2")
    assert trn2["share_first_year"] == pytest.approx(0.3)
    assert o["horizon_years"] == 5
    _agree(r.explain, o)
    text = " ".join(r.explain)
    if "never pays back" in text:
        assert o["payback_status"] == "never" and o["payback_years"] is None
    if o["payback_years"] is not None:
        assert "never" not in text


def test_precision_is_per_vendor():
    """'H100 in FP8, Trn2 in BF16': the training rate follows each vendor's precision."""
    from xpuplan.economics.mix import vendor_rates
    from xpuplan.economics.scenario import VendorMix

    def rate(precision):
        s = VendorMix(kind="vendor_mix", name="t", training_runs_per_year=1,
                      training={"model": "llama-3.1-8b", "tokens": 1e12, "chips": 64},
                      vendors=[{"chip": "h100", "usd_per_chip_hour": 2.0,
                                "precision": precision}])
        return vendor_rates(api.plan_context(), s)[0].runs_per_chip_year

    assert rate("fp8") > rate("bf16")
