"""Economics data: owned systems (capex, power), facilities, announced deals, cost per GW,
costs of capital, owned-cost bases, reported margins and price-performance trends.

`data/economics.toml` keeps each figure in the unit its source prints (`capex_usd`,
`power_kw`, `capex_usd_per_mw`, `electricity_usd_per_kwh`); records are validated like the
hardware catalog (a record with a figure needs a `source`), and properties give SI values.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Literal, overload

from pydantic import BaseModel, ConfigDict, Field

from xpuplan.catalog.data import builtin_file, data_table, user_table, validated
from xpuplan.catalog.hardware import user_catalog_paths
from xpuplan.errors import CatalogError, UnknownNameError

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
    # parts beyond the rack the published price already holds ("network", "storage")
    includes: tuple[str, ...] = ()

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
    hardware: str = ""
    # investment-for-compute terms, where the deal publishes them (economics.investment)
    investment_usd: float | None = Field(None, gt=0)
    post_money_valuation_usd: float | None = Field(None, gt=0)
    tranches: Literal["upfront", "per_gw", "dated"] | None = None


class GwCost(_Record):
    """A published all-in cost of one GW of AI capacity."""

    value_usd_per_gw: float = Field(gt=0)


class CostOfCapital(_Record):
    """A cost of capital: the rate r of capital recovery and of NPVs, per year."""

    rate: float = Field(ge=0, lt=1)


class OwnedCostBasis(_Record):
    """What an owned fleet costs beyond the rack: scale-out network and storage as fractions
    of the rack capex, non-power opex per kW of IT load, facility life, cost of capital."""

    cost_of_capital: str  # a cost_of_capital id
    network_capex_fraction: float = Field(ge=0, le=2)
    storage_capex_fraction: float = Field(ge=0, le=2)
    non_power_opex_usd_per_kw_year: float = Field(ge=0)
    facility_life_years: float = Field(gt=0)


class ReportedMargin(_Record):
    """A margin a company reported, with the definition it was reported under."""

    gross_margin: float = Field(ge=-1, le=1)
    definition: str = Field(min_length=1)


class PriceTrend(_Record):
    """A price-performance trend: the years in which FLOP/s per USD doubles."""

    metric: str = Field(min_length=1)
    doubling_time_years: float = Field(gt=0)


SECTIONS: dict[str, type[_Record]] = {
    "system": OwnedSystem, "facility": Facility, "deal": Deal, "gw_cost": GwCost,
    "cost_of_capital": CostOfCapital, "owned_cost": OwnedCostBasis,
    "reported_margin": ReportedMargin, "price_trend": PriceTrend}
# In a user's --catalog file `system:`/`systems:` are hardware systems (catalog/hardware.py), so
# owned-system cost records go under `owned_system:` there; scenario assumptions take either.
SECTION_ALIASES = {"owned_system": "system"}
USER_FILE_SECTIONS = tuple(SECTION_ALIASES) + tuple(k for k in SECTIONS if k != "system")


@dataclass(frozen=True)
class EconomicsCatalog:
    """Every economics record by section and id: the built-in file, then user overlays."""

    records: dict[str, dict[str, _Record]]

    @overload
    def record(self, section: Literal["system"], name: str) -> OwnedSystem: ...
    @overload
    def record(self, section: Literal["facility"], name: str) -> Facility: ...
    @overload
    def record(self, section: Literal["deal"], name: str) -> Deal: ...
    @overload
    def record(self, section: Literal["gw_cost"], name: str) -> GwCost: ...
    @overload
    def record(self, section: Literal["cost_of_capital"], name: str) -> CostOfCapital: ...
    @overload
    def record(self, section: Literal["owned_cost"], name: str) -> OwnedCostBasis: ...
    @overload
    def record(self, section: Literal["reported_margin"], name: str) -> ReportedMargin: ...
    @overload
    def record(self, section: Literal["price_trend"], name: str) -> PriceTrend: ...
    @overload
    def record(self, section: str, name: str) -> _Record: ...

    def record(self, section: str, name: str) -> _Record:
        """One record by id (typed by its section); UnknownNameError lists the close ids."""
        records = self.records[section]
        if name not in records:
            raise UnknownNameError(section.replace("_", " "), name, list(records))
        return records[name]

    def section(self, section: str) -> dict[str, _Record]:
        """Every record of one section by id."""
        return self.records[section]

    def deals(self) -> dict[str, Deal]:
        """Every announced deal by id."""
        return {k: d for k, d in self.records["deal"].items() if isinstance(d, Deal)}

    def with_records(self, data: dict, file: str) -> EconomicsCatalog:
        """This catalog with the sections of `data` on top (same id: the given fields
        replace the built-in ones). Each record needs its own `source` and `retrieved`; a key
        no record of its section has is refused, naming the allowed keys and the file."""
        out = {k: dict(v) for k, v in self.records.items()}
        for section, rows in data.items():
            section = SECTION_ALIASES.get(section, section)
            if section not in SECTIONS:
                raise CatalogError(file, section, "unknown section; allowed: "
                                   + ", ".join(SECTIONS))
            if not isinstance(rows, list):
                raise CatalogError(file, section, "must be a list of records")
            allowed = _allowed_keys(section)
            for i, raw in enumerate(rows):
                where = f"{section}[{i}]"
                if not isinstance(raw, dict) or "id" not in raw:
                    raise CatalogError(file, f"{where}.id", "every record needs an id")
                unknown = sorted(set(raw) - allowed)
                if unknown:
                    raise CatalogError(file, f"{where}.{unknown[0]}", "unknown key; allowed "
                                       f"keys: {', '.join(sorted(allowed))}")
                for key in ("source", "retrieved"):
                    if not raw.get(key):
                        raise CatalogError(file, f"{where}.{key}", "an override needs its own "
                                           f"{key}, like every catalog figure")
                base = out[section].get(raw["id"])
                merged = {**(base.model_dump() if base else {}), **raw}
                out[section][raw["id"]] = _validated(section, merged, file, where)
        return EconomicsCatalog(out)


def _validated(section: str, raw: dict, file: str, where: str) -> _Record:
    model: type[_Record] = SECTIONS[section]
    return validated(model, raw, file, where)


@cache
def _allowed_keys(section: str) -> frozenset[str]:
    """Keys a user record may set: the model's fields and any key a built-in record uses."""
    used = {k for r in _builtin().records[section].values() for k in r.model_dump()}
    return frozenset(set(SECTIONS[section].model_fields) | used | {"date"})


@lru_cache(maxsize=1)
def _builtin() -> EconomicsCatalog:
    path = builtin_file("economics.toml")
    data = data_table("economics.toml")
    return EconomicsCatalog({section: {
        raw["id"]: _validated(section, raw, str(path), f"{section}[{i}]")
        for i, raw in enumerate(data.get(section, []))} for section in SECTIONS})


def economics_catalog(user_files: list[str] | None = None) -> EconomicsCatalog:
    """The built-in economics records with the economics sections of the user's catalog
    files (XPUPLAN_CATALOG, then `user_files`) on top."""
    cat = _builtin()
    for path in user_catalog_paths(user_files):
        data = user_table(path)
        mine = {k: v for k, v in data.items() if k in USER_FILE_SECTIONS}
        if mine:
            cat = cat.with_records(mine, str(path))
    return cat


def economics() -> dict[str, dict[str, _Record]]:
    """Every built-in economics record by section and id, validated."""
    return _builtin().records


def economics_record(section: str, name: str) -> _Record:
    """One built-in record by id; UnknownNameError lists the close ids."""
    return _builtin().record(section, name)
