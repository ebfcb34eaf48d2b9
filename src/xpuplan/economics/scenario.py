"""Planning scenarios as YAML, validated by pydantic: one model per kind.

Every scenario has `kind`, `name`, `description` and `sources` (input -> where it comes from).
A wrong key is rejected naming the key and the allowed ones; numbers accept suffixes
('38e9', '15T' for tokens); any value may be read from an economics record with
`{ref: SECTION:ID.FIELD}` (economics/refs.py), its source then filled into `sources`.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Annotated, Literal, get_args

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from xpuplan.catalog.economics import SECTIONS, economics_catalog
from xpuplan.catalog.records import read_table_file
from xpuplan.economics.refs import has_refs, resolve_refs
from xpuplan.errors import CatalogError, short_repr, validation_problem
from xpuplan.specs.bounds import out_of_bounds
from xpuplan.units import parse_count


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @field_validator("*", mode="after")
    @classmethod
    def _within_bounds(cls, value, info):
        """Every number finite and within its bound (data/bounds.toml, by field name); a
        list's length within its bound (vendors, options)."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            problem = out_of_bounds(info.field_name, value)
        else:
            problem = out_of_bounds(info.field_name, len(value)) if isinstance(
                value, list) else None
        if problem:
            raise ValueError(problem)
        return value


class Spreads(_Strict):
    """Relative standard deviations for Monte Carlo (log-normal price and efficiency)."""

    price: float = Field(0.15, ge=0, le=2)
    efficiency: float | None = Field(None, ge=0, le=2)  # default: the calibration's spread
    utilization: float = Field(0.05, ge=0, le=0.5)  # absolute sd of utilisation
    samples: int = Field(4000, ge=100, le=200_000)


class TrainingJob(_Strict):
    """A training job of a scenario: model, tokens, chips, sequence length, precision."""
    model: str
    tokens: float
    chips: int | None = Field(None, gt=0)
    seq_len: int = Field(8192, gt=0)
    precision: str = "bf16"

    @field_validator("tokens", mode="before")
    @classmethod
    def _tokens(cls, v):
        return parse_count(v, "tokens")


class ServingJob(_Strict):
    """A serving job of a scenario: model, lengths in tokens, latency targets (s), weights."""
    model: str
    input_len: int = Field(1024, gt=0)
    output_len: int = Field(1024, gt=0)
    ttft_s: float | None = Field(None, gt=0)
    tpot_s: float | None = Field(None, gt=0)
    weights: str = "auto"  # fp8 where the chip has it, else bf16

    @model_validator(mode="before")
    @classmethod
    def _slo_in_ms(cls, data):
        """`ttft_ms` / `tpot_ms` (before SI names) read as seconds, with a DeprecationWarning."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for old, new in (("ttft_ms", "ttft_s"), ("tpot_ms", "tpot_s")):
            if old not in data:
                continue
            if data.get(new) is not None:
                raise ValueError(f"give {new} (seconds) or the deprecated {old}, not both")
            warnings.warn(f"scenario serving.{old} is deprecated; use {new} (seconds)",
                          DeprecationWarning, stacklevel=2)
            value = data.pop(old)
            number = isinstance(value, (int, float)) and not isinstance(value, bool)
            data[new] = value / 1e3 if number else value  # ms -> s
        return data


class _Base(_Strict):
    name: str
    description: str = ""
    sources: dict[str, str] = Field(default_factory=dict)
    spreads: Spreads = Field(default_factory=Spreads)
    # economics records to add or override for this scenario, by section (facility, system,
    # cost_of_capital, owned_cost, deal, gw_cost, reported_margin); each with source/retrieved
    assumptions: dict[str, list[dict]] = Field(default_factory=dict)


class Contract(_Base):
    """A cloud contract: budget over years at a price -> chip-hours, FLOP, runs, tokens/day."""

    kind: Literal["contract"]
    budget_usd: float = Field(gt=0)
    years: float = Field(gt=0)
    chip: str
    price_term: str = "on_demand"
    usd_per_chip_hour: float | None = Field(None, gt=0)  # overrides the catalog price
    discount: float = Field(0.0, ge=0, lt=1)  # negotiated discount off that price
    utilization: float = Field(0.9, gt=0, le=1)
    training: TrainingJob | None = None
    serving: ServingJob | None = None
    # relative fleet size per contract year (e.g. [1, 2, 2, ...]): peak vs average chips
    delivery_ramp: list[float] | None = Field(None, min_length=1)

    @model_validator(mode="after")
    def _ramp(self):
        ramp = self.delivery_ramp
        if ramp is not None and (len(ramp) != int(-(-self.years // 1)) or min(ramp) < 0
                                 or sum(ramp) <= 0):
            raise ValueError(f"delivery_ramp needs one value >= 0 per contract year "
                             f"({int(-(-self.years // 1))}), with a positive total")
        return self


class _Owned(_Base):
    """Finance inputs of owned capacity (see economics/owned.py)."""

    owned_cost: str = "hyperscaler-2025"  # economics.toml [[owned_cost]] id
    # economics.toml [[cost_of_capital]] id, or a rate (then `sources` must say where from);
    # default: the owned_cost record's
    cost_of_capital: str | float | None = None
    sell_through: float = Field(1.0, gt=0, le=1)  # share of hours sold (rental margins)


class PowerBudget(_Owned):
    """A facility power envelope filled with one owned system type."""

    kind: Literal["power_budget"]
    gw: float = Field(gt=0)
    system: str  # economics.toml [[system]] id
    facility: str  # economics.toml [[facility]] id
    facility_life_years: float | None = Field(None, gt=0)  # if the facility record lacks one
    utilization: float = Field(0.8, gt=0, le=1)
    training: TrainingJob | None = None
    serving: ServingJob | None = None


class Vendor(_Strict):
    """One vendor of a mix: chip, price, capacity, migration cost and share limits."""
    chip: str
    usd_per_chip_hour: float | None = Field(None, gt=0)
    price_term: str = "on_demand"
    capacity_chips: float | None = Field(None, gt=0)
    migration_cost_usd: float = Field(0.0, ge=0)
    # or an audit: a directory, or the JSON `xpuplan audit --json` wrote (cost = audit weeks x
    # usd_per_engineer_week, default from audit_effort.toml)
    migration_audit: str | None = None
    usd_per_engineer_week: float | None = Field(None, gt=0)
    migration_years: float = Field(1.0, gt=0)  # the migration cost is spread over these years
    shortfall: float = Field(0.0, ge=0, lt=1)  # throughput lost while its software matures
    shortfall_fade_years: float | None = Field(None, gt=0)  # linear fade to 0; None: constant
    incumbent: bool = False
    min_share: float | None = Field(None, ge=0, le=1)  # of the chips held, every year
    max_share: float | None = Field(None, gt=0, le=1)  # overrides the scenario's max_share
    fixed_share: float | None = Field(None, ge=0, le=1)  # exactly this share ("move 30 %")
    precision: str | None = None  # training precision on this vendor (default: training's)
    weights: str | None = None  # serving weights on this vendor (default: serving's)

    @model_validator(mode="after")
    def _shares(self):
        if self.fixed_share is not None and (self.min_share is not None
                                             or self.max_share is not None):
            raise ValueError("fixed_share excludes min_share and max_share")
        if (self.min_share or 0) > (self.max_share or 1):
            raise ValueError(f"min_share {self.min_share} > max_share {self.max_share}")
        return self

    @model_validator(mode="after")
    def _one_migration_cost(self):
        if self.migration_audit is not None and self.migration_cost_usd > 0:
            raise ValueError("give migration_cost_usd or migration_audit, not both")
        return self


class VendorMix(_Base):
    """Least-cost mix of vendors meeting training and serving demand every year of a horizon
    (MILP, highspy), against staying on the incumbents."""

    kind: Literal["vendor_mix"]
    training_runs_per_year: float = Field(0.0, ge=0)
    training: TrainingJob | None = None
    serving_tokens_per_day: float = Field(0.0, ge=0)
    serving: ServingJob | None = None
    vendors: list[Vendor] = Field(min_length=1)
    max_share: float = Field(1.0, gt=0, le=1)
    utilization: float = Field(0.85, gt=0, le=1)
    horizon_years: int = Field(1, ge=1, le=30)
    discount_rate: float = Field(0.0, ge=0, lt=1)  # per year; costs of year y discounted y years


class Investment(_Base):
    """An investor puts in I; the investee commits to buy C of its compute over T years."""

    kind: Literal["investment"]
    investor: str
    investee: str
    investment_usd: float | None = Field(None, gt=0)  # default: the deal record's
    commitment_usd: float = Field(gt=0)
    years: float | None = Field(None, gt=0)  # even deployment; or give gw_per_year
    investor_gross_margin: float = Field(ge=0, le=1)
    discount_rate: float = Field(0.08, ge=0, lt=1)
    usd_per_gw: float | None = Field(None, gt=0)  # to express C as GW of systems
    list_usd_per_chip_hour: float | None = Field(None, gt=0)
    alternative_usd_per_chip_hour: float | None = Field(None, gt=0)
    deal: str | None = None  # economics.toml [[deal]] id this scenario reads
    # "upfront": all of I at year 0; "per_gw": I paid as each GW is deployed; "dated": the
    # shares of I in `tranche_shares_by_year` (years 0..T, summing to 1)
    tranches: Literal["upfront", "per_gw", "dated"] = "upfront"
    tranche_shares_by_year: list[float] | None = Field(None, min_length=1)
    gw_per_year: list[float] | None = Field(None, min_length=1)  # deployment ramp, years 1..T
    post_money_valuation_usd: float | None = Field(None, gt=0)  # -> equity stake I / value

    @field_validator("gw_per_year")
    @classmethod
    def _ramp(cls, v):
        if v is not None and (min(v) < 0 or sum(v) <= 0):
            raise ValueError("GW per year must be >= 0 with a positive total")
        return v

    @model_validator(mode="after")
    def _term(self):
        if self.gw_per_year is not None and self.years not in (None, len(self.gw_per_year)):
            raise ValueError(f"years = {self.years:g} but gw_per_year has "
                             f"{len(self.gw_per_year)} years: give one of them")
        if self.years is None and self.gw_per_year is None:
            raise ValueError("give years (even deployment) or gw_per_year (a ramp)")
        shares = self.tranche_shares_by_year
        if (self.tranches == "dated") != (shares is not None):
            raise ValueError("tranches: dated goes with tranche_shares_by_year, and only it")
        if shares is not None and (min(shares) < 0 or abs(sum(shares) - 1) > 1e-9):
            raise ValueError(f"tranche_shares_by_year must be >= 0 and sum to 1 (sum "
                             f"{sum(shares):g})")
        return self

    @property
    def term_years(self) -> float:
        """Years of deployment: the ramp's length, else `years`."""
        if self.gw_per_year:
            return float(len(self.gw_per_year))
        assert self.years is not None  # the validator above: years or gw_per_year
        return self.years


class TimelineDeal(_Strict):
    """One announced deal on the timeline: its record, start year and term."""
    deal: str  # economics.toml [[deal]] id
    start_year: int
    years: float | None = Field(None, gt=0)  # when the record has no term
    gw_cost: str | None = None  # economics.toml [[gw_cost]] id when the deal has no value


class DealTimeline(_Base):
    """Announced deals as yearly spend by seller, summed over a window against a claim."""

    kind: Literal["deal_timeline"]
    deals: list[TimelineDeal] = Field(min_length=1)
    window_start_year: int
    window_years: int = Field(gt=0, le=30)
    claim_usd: float | None = Field(None, gt=0)


class TcoOption(_Strict):
    """One option of a TCO comparison: a chip with its system or cost per GW."""
    label: str
    chip: str
    system: str | None = None  # economics.toml system id (capex, power)
    usd_per_gw: float | None = Field(None, gt=0)  # or an all-in cost per GW
    list_usd_per_chip_hour: float | None = Field(None, gt=0)  # what renting it out fetches


class TcoCompare(_Owned):
    """Owned cost per chip-hour and per training token of several options."""

    kind: Literal["tco_compare"]
    facility: str
    reported_margin: str = "oracle-nvidia-rental-2025"  # economics.toml [[reported_margin]]
    facility_life_years: float | None = Field(None, gt=0)
    utilization: float = Field(0.8, gt=0, le=1)
    training: TrainingJob
    options: list[TcoOption] = Field(min_length=1)


class SpendForecast(_Base):
    """Yearly compute spend and fleet from a demand growth curve and a price decline."""

    kind: Literal["spend_forecast"]
    start_year: int
    years: int = Field(gt=0, le=30)
    chip: str
    usd_per_chip_hour: float | None = Field(None, gt=0)
    base_chips: float = Field(gt=0)  # average chips held in the first year
    demand_growth_per_year: float = Field(gt=0)  # x per year in FLOP demanded
    flop_per_usd_doubling_years: float = Field(gt=0)  # price-performance trend
    utilization: float = Field(0.85, gt=0, le=1)


AnyScenario = (Contract | PowerBudget | VendorMix | Investment | TcoCompare | SpendForecast
               | DealTimeline)
Scenario = Annotated[AnyScenario, Field(discriminator="kind")]
# pydantic types TypeAdapter's argument as type[T]; a discriminated union is a valid type form
SCENARIO: TypeAdapter[AnyScenario] = TypeAdapter(Scenario)  # type: ignore[arg-type]
KINDS = ("contract", "power_budget", "vendor_mix", "investment", "tco_compare",
         "spend_forecast", "deal_timeline")


def load_scenario(path: str | os.PathLike[str], *,
                  catalog_files: list[str] | None = None) -> Scenario:
    """Parse and validate a scenario file; CatalogError names the key and what is allowed.
    References to economics records (economics/refs.py) read the built-in records with the
    user's `catalog_files` on top."""
    return scenario_from_data(read_table_file(Path(path)), str(path),
                              catalog_files=catalog_files)


def scenario_from_data(data: object, file: str = "scenario", *,
                       catalog_files: list[str] | None = None) -> Scenario:
    """Validate an already parsed scenario (a dict, as from YAML); errors name `file`."""
    if not isinstance(data, dict):
        raise CatalogError(file, None, f"must be a mapping of keys, got {type(data).__name__}")
    if has_refs(data):
        data = resolve_refs(data, file, economics_catalog(catalog_files))
    try:
        scenario = SCENARIO.validate_python(data)
    except ValidationError as exc:
        raise _scenario_error(file, data, exc) from None
    if scenario.assumptions:  # checked here so that errors name the file
        economics_catalog().with_records(scenario.assumptions, f"{file}: assumptions")
    return scenario


def _scenario_error(file: str, data: dict, exc: ValidationError) -> CatalogError:
    err = exc.errors(include_url=False)[0]
    loc = [str(p) for p in err["loc"]]
    kind = data.get("kind")
    if err["type"] == "union_tag_invalid" or err["type"] == "union_tag_not_found":
        return CatalogError(file, "kind", f"{short_repr(kind)} is not a scenario kind; "
                            f"allowed: {', '.join(KINDS)}")
    key = ".".join(loc[1:]) if loc and loc[0] == kind else ".".join(loc)
    if err["type"] == "extra_forbidden":
        model = _model_at(_MODELS.get(kind), loc[1:-1])
        allowed = ", ".join(sorted(model.model_fields)) if model else "?"
        hint = _record_hint(loc[-1])  # before the list, which a long line cuts short
        return CatalogError(file, key, f"unknown key{hint}; allowed keys: {allowed}")
    return CatalogError(file, key, validation_problem(exc)[1])


def _record_hint(key: str) -> str:
    """Where a misplaced economics figure (pue, rate, ...) belongs, if it is one."""
    homes = [name for name, cls in SECTIONS.items() if key in cls.model_fields
             and key not in ("id", "source", "retrieved", "confidence", "notes", "sources")]
    return (f" ({key} is a field of an economics {' / '.join(homes)} record: override it "
            f"under assumptions: {homes[0]}: [{{id: ..., {key}: ..., source: ..., "
            "retrieved: ...}])" if homes else "")


_MODELS = {get_args(m.model_fields["kind"].annotation)[0]: m
           for m in (Contract, PowerBudget, VendorMix, Investment, TcoCompare, SpendForecast,
                     DealTimeline)}


def _model_at(model, path: list[str]):
    """The pydantic model class found by following `path` (field names, list indexes)."""
    for part in path:
        if model is None or part.isdigit():
            continue
        annotation = model.model_fields[part].annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        nested = [a for c in candidates for a in (c, *getattr(c, "__args__", ()))
                  if isinstance(a, type) and issubclass(a, BaseModel)]
        model = nested[0] if nested else None
    return model
