"""The compare table fits an 80-column terminal without breaking a number or a chip id."""

from __future__ import annotations

import pytest
from rich.console import Console

from xpuplan import api
from xpuplan.units import fmt_usd
from xpuplan.views import terminal


@pytest.fixture(scope="module")
def comparison() -> api.Comparison:
    return api.compare("llama-3.1-70b", chips=["h100-sxm", "tpu-v6e", "trn2"], n_chips=1024,
                       tokens=1e12)


@pytest.mark.parametrize("width", [80, 140])
def test_compare_fits_the_terminal(monkeypatch, comparison, width):
    out = Console(width=width, record=True, color_system=None)
    monkeypatch.setattr(terminal, "console", out)
    terminal.show_compare("llama-3.1-70b", 1024, "1T", comparison)
    text = out.export_text()
    assert max(len(line) for line in text.splitlines()) <= width
    body = text.split("Cost =")[0]
    for row in comparison:
        r = row.result
        assert r is not None
        line = next(ln for ln in body.splitlines() if ln.lstrip().startswith(row.chip + " "))
        assert f"{r.tokens_per_s_per_chip:,.0f}" in line  # whole, on the chip's own line
        assert f"{r.mfu:.1%}" in line
        if r.run and r.run.cost_usd is not None:
            assert fmt_usd(r.run.cost_usd) in line
            assert r.run.instance in text.replace("\n", " ")  # named below the table
        else:
            assert " - " in line  # no price under the basis


def test_compact_layout_keeps_every_parallel_degree():
    p = {"tp": 4, "pp": 2, "dp": 64, "cp": 1, "ep": 8, "vpp": 1, "micro_batch": 2, "zero": 1,
         "recompute": "full"}
    assert terminal._layout_compact(p) == "tp4 pp2 dp64 ep8 mb2 z1 rc:full"
