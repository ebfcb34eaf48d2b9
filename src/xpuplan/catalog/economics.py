"""Economics data: owned systems (capex, power), facilities, announced deals, cost per GW.

`data/economics.toml` keeps each figure in the unit its source prints (`capex_usd`,
`power_kw`, `capex_usd_per_mw`, `electricity_usd_per_kwh`); records are validated like the
hardware catalog (a record with a figure needs a `source`), and properties give SI values.
"""

from __future__ import annotations

from functools import lru_cache

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from xpuplan.catalog.hardware import builtin_file
from xpuplan.catalog.records import read_table_file
from xpuplan.errors import CatalogError, UnknownNameError, validation_problem

HOURS_PER_YEAR = 8766.0  # 365.25 days


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    source: str = Field(min_length=1)
    retrieved: str
    confidence: str = "medium"
    notes: str = ""
    sources: dict[str, str] = Field(default_factory=dict)


class OwnedSystem(_Record):
    """A system one can buy: chips, purchase price and IT power at full load."""

    chip: str
    chips: int = Field(ge=1)
    capex_usd: float | None = Field(None, gt=0)
    power_kw: float | None = Field(None, gt=0)

    @property
    def power_w(self) -> float | None:
        return None if self.power_kw is None else self.power_kw * 1e3


class Facility(_Record):
    """Data-centre construction and running costs."""

    capex_usd_per_mw: float | None = Field(None, gt=0)
    pue: float | None = Field(None, ge=1.0)
    electricity_usd_per_kwh: float | None = Field(None, gt=0)
    depreciation_years_systems: float | None = Field(None, gt=0)
    depreciation_years_facility: float | None = Field(None, gt=0)

    @property
    def capex_usd_per_w(self) -> float | None:
        return None if self.capex_usd_per_mw is None else self.capex_usd_per_mw / 1e6

    @property
    def electricity_usd_per_j(self) -> float | None:
        return None if self.electricity_usd_per_kwh is None else (
            self.electricity_usd_per_kwh / 3.6e6)


class Deal(_Record):
    """An announced compute deal (facts only; the plan scenarios turn them into numbers)."""

    buyer: str = ""
    seller: str = ""
    value_usd: float | None = None
    years: float | None = None
    gw: float | None = None
    announced: str = ""


class GwCost(_Record):
    """A published all-in cost of one GW of AI capacity."""

    value_usd_per_gw: float = Field(gt=0)


SECTIONS = {"system": OwnedSystem, "facility": Facility, "deal": Deal, "gw_cost": GwCost}


@lru_cache(maxsize=1)
def economics() -> dict[str, dict[str, _Record]]:
    """Every economics record by section and id, validated."""
    path = builtin_file("economics.toml")
    data = read_table_file(path)
    out: dict[str, dict[str, _Record]] = {}
    for section, cls in SECTIONS.items():
        out[section] = {}
        for i, raw in enumerate(data.get(section, [])):
            try:
                record = cls(**raw)
            except ValidationError as exc:
                key, problem = validation_problem(exc)
                raise CatalogError(str(path), f"{section}[{i}].{key}", problem) from None
            out[section][record.id] = record
    return out


def economics_record(section: str, name: str):
    """One record by id; UnknownNameError lists the close ids."""
    records = economics()[section]
    if name not in records:
        raise UnknownNameError(section.replace("_", " "), name, list(records))
    return records[name]
