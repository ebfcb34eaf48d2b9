"""Units at the edges: parsing counts and round-tripping catalog unit keys."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from xpuplan.catalog.hardware import CHIP_FIGURES
from xpuplan.catalog.records import parse_record
from xpuplan.errors import SpecError
from xpuplan.units import parse_count


@pytest.mark.parametrize("text,value", [("15T", 15e12), ("4k", 4e3), ("2048", 2048.0),
                                        ("1.5e3", 1500.0), (7, 7.0), ("3M", 3e6)])
def test_parse_count(text, value):
    assert parse_count(text) == value


@pytest.mark.parametrize("text", ["abc", "-5", "0", "15X"])
def test_parse_count_rejects(text):
    with pytest.raises(SpecError):
        parse_count(text, "tokens")


@given(st.floats(1e-3, 1e6))
def test_unit_keys_round_trip(x):
    """hbm in GB, GiB and bytes; bandwidth uni vs bidirectional: the same SI value."""
    def si(key, value):
        rec = parse_record({"id": "c", key: value, "source": "s"}, "f", {"id", "source"},
                           CHIP_FIGURES, "chip")
        return next(iter(rec.figures.values()))

    assert si("hbm_gb", x) == pytest.approx(si("hbm_bytes", x * 1e9))
    assert si("hbm_gib", x) == pytest.approx(si("hbm_bytes", x * 2**30))
    assert si("scaleup_gb_per_s_bidir", 2 * x) == pytest.approx(si("scaleup_gb_per_s_unidir", x))
    assert si("hbm_tb_per_s", x) == pytest.approx(si("hbm_gb_per_s", 1000 * x))
