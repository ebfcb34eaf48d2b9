"""One stated price basis: train, infer and compare take a price term or a given price;
compare never mixes terms across chips."""

from __future__ import annotations

import pytest

from xpuplan import api
from xpuplan.catalog.registry import hardware_catalog


def test_train_at_a_given_price_costs_chip_hours_times_it():
    r = api.train("llama-3.1-8b", chip="h100", n_chips=64, tokens=1e11, usd_per_chip_hour=2.5)
    assert r.run.cost_usd == pytest.approx(r.run.chip_hours * 2.5)
    assert r.run.price_term == "given"


def test_train_price_term_picks_that_terms_cheapest_instance():
    cat = hardware_catalog()
    inst = cat.cheapest_instance("h100-sxm", "capacity_block")
    r = api.train("llama-3.1-8b", chip="h100", n_chips=64, tokens=1e11, price_term="capacity_block")
    assert r.run.instance == inst.id
    assert r.run.usd_per_chip_hour == pytest.approx(
        inst.usd_per_chip_s("capacity_block") * 3600)


def test_infer_given_price_sets_dollars_per_token():
    a = api.infer("llama-3.1-8b", chip="h100", n_chips=1, usd_per_chip_hour=1.0)
    b = api.infer("llama-3.1-8b", chip="h100", n_chips=1, usd_per_chip_hour=2.0)
    assert b.usd_per_mtok_output == pytest.approx(2 * a.usd_per_mtok_output)
    assert a.usd_per_chip_hour == pytest.approx(1.0)


def test_compare_uses_one_term_and_says_so(run_json):
    d = run_json("compare", "llama-3.1-8b", "--chip", "h100,trn2", "--chips", "64",
                 "--tokens", "1e11", "--price-term", "capacity_block")
    assert "capacity-block" in d["price_basis"]
    terms = {r["price_term"] for r in d["rows"] if r.get("cost_usd")}
    assert terms == {"capacity_block"} and len(d["rows"]) == 2


def test_compare_without_a_price_under_the_term_shows_no_cost():
    """trn2 has no on-demand price in the catalog: on-demand compare leaves it unpriced
    rather than mixing in its capacity-block price."""
    cat = hardware_catalog()
    assert cat.cheapest_instance("trn2", "on_demand") is None
    rows = api.compare("llama-3.1-8b", chips=["trn2"], n_chips=64, tokens=1e11)
    assert rows[0].result.run.cost_usd is None


def test_bad_price_inputs_are_one_line(run_cli):
    code, _, err = run_cli("train", "llama-3.1-8b", "--chip", "h100", "--chips", "8",
                           "--tokens", "1e9", "--usd-per-chip-hour", "-1")
    assert code == 2 and "usd_per_chip_hour" in err and err.count("\n") == 1
    code, _, err = run_cli("infer", "llama-3.1-8b", "--chip", "h100", "--price-term", "weekly")
    assert code == 2 and "on_demand" in err
