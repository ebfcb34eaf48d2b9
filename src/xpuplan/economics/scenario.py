"""Planning scenarios as YAML, validated by pydantic: one model per kind.

Every scenario has `kind`, `name`, `description` and `sources` (input -> where it comes from).
A wrong key is rejected naming the key and the allowed ones; numbers accept suffixes
('38e9', '15T' for tokens).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, field_validator

from xpuplan.catalog.records import read_table_file
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
    model: str
    input_len: int = Field(1024, gt=0)
    output_len: int = Field(1024, gt=0)
    ttft_ms: float | None = Field(None, gt=0)
    tpot_ms: float | None = Field(None, gt=0)
    weights: str = "auto"  # fp8 where the chip has it, else bf16


class _Base(_Strict):
    name: str
    description: str = ""
    sources: dict[str, str] = Field(default_factory=dict)
    spreads: Spreads = Field(default_factory=Spreads)


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


class PowerBudget(_Base):
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
    chip: str
    usd_per_chip_hour: float | None = Field(None, gt=0)
    price_term: str = "on_demand"
    capacity_chips: float | None = Field(None, gt=0)
    migration_cost_usd: float = Field(0.0, ge=0)
    shortfall: float = Field(0.0, ge=0, lt=1)  # throughput lost while its software matures
    incumbent: bool = False


class VendorMix(_Base):
    """Least-cost mix of vendors meeting training and serving demand (LP/MILP, highspy)."""

    kind: Literal["vendor_mix"]
    training_runs_per_year: float = Field(0.0, ge=0)
    training: TrainingJob | None = None
    serving_tokens_per_day: float = Field(0.0, ge=0)
    serving: ServingJob | None = None
    vendors: list[Vendor] = Field(min_length=1)
    max_share: float = Field(1.0, gt=0, le=1)
    utilization: float = Field(0.85, gt=0, le=1)


class Investment(_Base):
    """An investor puts in I; the investee commits to buy C of its compute over T years."""

    kind: Literal["investment"]
    investor: str
    investee: str
    investment_usd: float = Field(gt=0)
    commitment_usd: float = Field(gt=0)
    years: float = Field(gt=0)
    investor_gross_margin: float = Field(ge=0, le=1)
    discount_rate: float = Field(0.08, ge=0, lt=1)
    usd_per_gw: float | None = Field(None, gt=0)  # to express C as GW of systems
    list_usd_per_chip_hour: float | None = Field(None, gt=0)
    alternative_usd_per_chip_hour: float | None = Field(None, gt=0)


class TcoOption(_Strict):
    label: str
    chip: str
    system: str | None = None  # economics.toml system id (capex, power)
    usd_per_gw: float | None = Field(None, gt=0)  # or an all-in cost per GW
    list_usd_per_chip_hour: float | None = Field(None, gt=0)  # what renting it out fetches


class TcoCompare(_Base):
    """Owned cost per chip-hour and per training token of several options."""

    kind: Literal["tco_compare"]
    facility: str
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


Scenario = Annotated[Contract | PowerBudget | VendorMix | Investment | TcoCompare
                     | SpendForecast, Field(discriminator="kind")]
KINDS = ("contract", "power_budget", "vendor_mix", "investment", "tco_compare",
         "spend_forecast")


def load_scenario(path: str | Path) -> Scenario:
    """Parse and validate a scenario file; CatalogError names the key and what is allowed."""
    data = read_table_file(Path(path))
    try:
        return TypeAdapter(Scenario).validate_python(data)
    except ValidationError as exc:
        raise _scenario_error(str(path), data, exc) from None


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
        return CatalogError(file, key, f"unknown key; allowed keys: {allowed}")
    return CatalogError(file, key, validation_problem(exc)[1])


_MODELS = {m.model_fields["kind"].annotation.__args__[0]: m
           for m in (Contract, PowerBudget, VendorMix, Investment, TcoCompare, SpendForecast)}


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
