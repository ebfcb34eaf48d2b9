"""Reports and tables people read: KPI summary and full input table first, absolute
P10-P90, a tornado over every numeric input, CSV/XLSX export, terminal tables at 80
columns with ids whole and money as $38.0B."""

from __future__ import annotations

import csv
import re

import pytest
from result_numbers import numbers_in  # beside this file

from xpuplan import api
from xpuplan.views.plan_report import plan_html
from xpuplan.views.plan_tables import fmt_value, plan_tables


@pytest.fixture(scope="module")
def loop():
    return api.plan(example="nvidia-investment-loop", tornado=True)


def test_fmt_value_by_unit_in_the_key():
    assert fmt_value("budget_usd", 38e9) == "$38.0B"
    assert fmt_value("investee_npv_usd", -2e11) == "-$200B"
    assert fmt_value("circular_share", 0.2857) == "28.6%"
    assert fmt_value("year", 2026) == "2026"


def test_tornado_moves_every_numeric_input(loop):
    """Each numeric input moved ±20 % alone; the investor NPV is linear in the margin:
    NPV(m) = −PV(I) + m·PV(C), so its swing is 0.4·m·PV(C)."""
    t = loop.tornado
    names = {row["input"] for row in t["rows"]}
    assert {"commitment_usd", "investor_gross_margin", "discount_rate", "usd_per_gw"} <= names
    margin = next(row for row in t["rows"] if row["input"] == "investor_gross_margin")
    pv_c = loop.outputs["pv_purchases_usd"]
    assert margin["swing"] == pytest.approx(0.4 * 0.75 * pv_c)
    swings = [row["swing"] for row in t["rows"] if "swing" in row]
    assert swings == sorted(swings, reverse=True)


def test_report_opens_with_kpis_then_every_input(loop):
    page = plan_html(loop)
    assert page.index("Summary") < page.index("Inputs and their sources") < page.index(
        "How the numbers follow")
    for row in loop.input_table:
        assert row["input"] in page
    for k in loop.kpis:
        assert fmt_value(k["key"], k["value"]) in page
    assert "tornado" in page and "cash flows by year" in page
    assert "(JSON)" not in page  # no raw dump


def test_intervals_are_absolute_in_the_report():
    r = api.plan(example="aws-openai-contract")
    page = plan_html(r)
    p10, p50, p90 = r.interval["chip_hours"]
    # plotly writes the label as JSON ("/" as \u002f); the bar is at P50 in absolute units
    label = f"P10 {fmt_value('chip_hours', p10)} \\u002f P50 {fmt_value('chip_hours', p50)}"
    assert label in page and f'"y":[{p50!r}]' in page


def test_csv_and_xlsx_hold_every_table(tmp_path, run_cli, loop):
    code, _, err = run_cli("plan", "--example", "nvidia-investment-loop", "--csv",
                           str(tmp_path / "out"), "--xlsx", str(tmp_path / "r.xlsx"))
    assert code == 0, err
    names = set(plan_tables(loop))
    assert {p.stem for p in (tmp_path / "out").glob("*.csv")} == {
        n for n, rows in plan_tables(loop).items() if rows}
    with open(tmp_path / "out" / "cash_flows.csv") as fh:
        rows = list(csv.DictReader(fh))
    assert [float(r["investment_usd"]) for r in rows] == pytest.approx(
        [c["investment_usd"] for c in loop.outputs["cash_flows"]])
    from openpyxl import load_workbook

    wb = load_workbook(tmp_path / "r.xlsx")
    assert set(wb.sheetnames) <= names and "inputs" in wb.sheetnames
    assert wb["kpis"]["A1"].value == "kpi"


@pytest.mark.parametrize("name", ["trainium-shift", "nvidia-10gw", "openai-deal-timeline",
                                  "own-silicon-margin"])
def test_terminal_tables_fit_80_columns_with_ids_whole(name, run_cli, monkeypatch):
    from xpuplan.views import terminal

    monkeypatch.setattr(terminal.console, "width", 80)
    code, out, err = run_cli("plan", "--example", name)
    assert code == 0, err
    assert all(len(line) <= 80 for line in out.splitlines())
    r = api.plan(example=name)
    ids = [v["chip"] for v in r.outputs.get("vendors", [])] + [
        d["deal"] for d in r.outputs.get("deals", [])]
    for i in ids:
        assert re.search(rf"(^|[^\w-]){re.escape(i)}($|[^\w-])", out), i
    for line in out.splitlines():  # money never as '38 G'
        if "usd" in line:
            assert not re.search(r"\d [kMGTP]\b", line), line


def test_png_charts_without_a_browser(tmp_path, run_cli):
    code, _, err = run_cli("plan", "--example", "nvidia-investment-loop", "--png",
                           str(tmp_path))
    assert code == 0, err
    names = {p.name for p in tmp_path.glob("*.png")}
    assert {"cash_flows_usd.png", "tornado.png"} <= names
    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(tmp_path / "tornado.png").convert("RGB"), dtype=float)
    assert (pixels.max(axis=2) - pixels.min(axis=2) > 60).mean() > 0.01  # coloured bars


def test_json_prices_are_per_hour(run_json):
    from xpuplan.catalog.registry import hardware_catalog

    def keys(obj):
        if isinstance(obj, dict):
            return set(obj) | {k for v in obj.values() for k in keys(v)}
        if isinstance(obj, list):
            return {k for v in obj for k in keys(v)}
        return set()

    d = run_json("instances")
    assert not [k for k in keys(d) if k.endswith("_per_s") and "usd" in k]
    p5 = next(i for i in d["instances"] if i["id"] == "p5.48xlarge")
    assert p5["on_demand_usd_per_hour"] == pytest.approx(
        hardware_catalog().instance("p5.48xlarge").on_demand_usd_per_s * 3600)
    for name in api.plan_examples():
        assert not [k for k in keys(api.plan(example=name).to_dict())
                    if k.endswith("_per_s") and "usd" in k], name


def test_compare_table_keeps_chip_ids_whole_at_80_columns(run_cli, monkeypatch):
    from xpuplan.views import terminal

    monkeypatch.setattr(terminal.console, "width", 80)
    code, out, err = run_cli("compare", "llama-3.1-8b", "--chip", "h100,trn2", "--chips",
                             "64", "--tokens", "1e11")
    assert code == 0, err
    assert all(len(line) <= 80 for line in out.splitlines())
    assert "h100-sxm" in out and "…" not in out
    assert "one price basis: cheapest on-demand" in out.replace("\n", " ")


@pytest.mark.parametrize("name", sorted(api.plan_examples()))
def test_every_dollar_in_the_explanation_is_an_input_or_output(name):
    """The arithmetic a reader audits uses only figures the JSON also carries."""
    r = api.plan(example=name)
    nums = numbers_in(r.outputs) + numbers_in(r.inputs)
    money = {fmt_value("x_usd", x) for x in nums} | {fmt_value("x_usd", -x) for x in nums}
    for line in r.explain:
        for token in re.findall(r"-?\$[0-9.,]+[kMBT]?", line):
            assert token in money, (token, line)
