"""Goal-seek by bisection: hand-checkable goals, integer inputs, unreachable goals, and
contract delivery ramps (peak vs average fleet)."""

from __future__ import annotations

import json

import pytest
import yaml

from xpuplan import api
from xpuplan.economics.fleets import contract
from xpuplan.economics.scenario import Contract

HOURS = 8766.0


def test_discount_at_which_a_contract_holds_n_chips():
    """avg chips = budget / (list·(1 − d)·years·8766)  =>  d = 1 − budget/(N·years·8766·list)
    (the contract formula of economics/fleets.py solved for d by hand)."""
    r = api.plan(example="aws-openai-contract", solve="discount",
                 target=("avg_chips", 300_000), between=(0.0, 0.99))
    o = r.outputs
    by_hand = 1 - o["budget_usd"] / (300_000 * o["years"] * HOURS * o["list_usd_per_chip_hour"])
    assert o["solve"]["value"] == pytest.approx(by_hand, rel=1e-3)
    assert o["avg_chips"] == pytest.approx(300_000, rel=1e-3)
    assert r.explain[0].startswith("solve: discount = ")
    json.dumps(r.to_dict(), allow_nan=False)


def test_chips_for_a_training_deadline_is_an_integer(tmp_path):
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({
        "kind": "contract", "name": "t", "budget_usd": 1e8, "years": 1, "chip": "h100",
        "usd_per_chip_hour": 2.0,
        "training": {"model": "llama-3.1-8b", "tokens": 1e11, "chips": 64}}))
    slow = api.plan(path).outputs["training_run"]["time_to_train_s"]
    r = api.plan(path, solve="training.chips", target=("training_run.time_to_train_s",
                                                       slow / 4), between=(64, 1024))
    got = r.outputs["solve"]
    assert isinstance(got["value"], int) and 64 < got["value"] <= 1024
    assert r.outputs["training_run"]["n_chips"] == got["value"]
    assert got["achieved"] == pytest.approx(slow / 4, rel=0.25)


def test_unreachable_goal_names_the_closest_value(run_cli):
    code, _, err = run_cli("plan", "--example", "aws-openai-contract", "--solve", "discount",
                           "--target", "avg_chips=1e12")
    assert code == 2 and err.count("\n") == 1
    assert "no discount in [0, 0.99]" in err and "closest: discount = 0.99" in err


def test_bad_solve_options_are_one_line(run_cli):
    code, _, err = run_cli("plan", "--example", "aws-openai-contract", "--solve", "discout",
                           "--target", "avg_chips=1")
    assert code == 2 and "discout" in err and err.count("\n") == 1
    code, _, err = run_cli("plan", "--example", "aws-openai-contract", "--solve", "discount",
                           "--target", "avg_chips")
    assert code == 2 and "OUTPUT=VALUE" in err


def test_delivery_ramp_peak_vs_average():
    """$1M at $2/chip-h over 2 years with fleet ramp 1:3: 500k chip-hours, average
    500k/(2·8766) chips, year 2 holds 3/4 of the hours: peak = 375k/8766."""
    ctx = api.plan_context()
    s = Contract(kind="contract", name="t", budget_usd=1e6, years=2, chip="h100",
                 usd_per_chip_hour=2.0, delivery_ramp=[1, 3])
    out = contract(ctx, s).outputs
    assert out["avg_chips"] == pytest.approx(500_000 / (2 * HOURS))
    assert out["peak_chips"] == pytest.approx(375_000 / HOURS)
    assert [y["n_chips"] for y in out["chips_by_year"]] == pytest.approx(
        [125_000 / HOURS, 375_000 / HOURS])
    with pytest.raises(ValueError, match="one value >= 0 per contract year"):
        Contract(kind="contract", name="t", budget_usd=1e6, years=2, chip="h100",
                 delivery_ramp=[1, 2, 3])


def test_power_budget_for_a_token_demand(tmp_path):
    """Tokens/day = chips · u · tokens/s/chip · 86400 with chips = ⌊GW/PUE/rack kW⌋·72: the
    solved GW serves the demand to within one rack."""
    path = tmp_path / "p.yaml"
    path.write_text(yaml.safe_dump({
        "kind": "power_budget", "name": "t", "gw": 0.01, "system": "gb200-nvl72",
        "facility": "us-hyperscale-2025", "facility_life_years": 10,
        "serving": {"model": "llama-3.1-8b"}}))
    r = api.plan(path, solve="gw", target=("serving_tokens_per_day", 1e13))
    o = r.outputs
    per_rack = o["serving_tokens_per_day"] / o["systems"]
    assert abs(o["serving_tokens_per_day"] - 1e13) <= per_rack


def test_share_that_pays_back_in_y_years(tmp_path):
    """Serve on h100 (incumbent) or a cheaper trn2 with a migration cost: the fixed share at
    which the migration pays back in 2 years; more share pays back sooner here."""
    body = {"kind": "vendor_mix", "name": "t", "serving_tokens_per_day": 1e12,
            "serving": {"model": "llama-3.1-8b"}, "horizon_years": 5, "discount_rate": 0.08,
            "vendors": [{"chip": "h100", "usd_per_chip_hour": 4.0, "incumbent": True},
                        {"chip": "trn2", "usd_per_chip_hour": 1.0, "fixed_share": 0.5,
                         "migration_cost_usd": 5e6}]}
    path = tmp_path / "m.yaml"
    path.write_text(yaml.safe_dump(body))
    r = api.plan(path, solve="vendors[1].fixed_share", target=("payback_years", 2.0),
                 between=(0.05, 1.0))
    o = r.outputs
    assert o["payback_years"] == pytest.approx(2.0, abs=0.01)
    assert o["payback_status"] == "pays back"
