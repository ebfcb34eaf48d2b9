"""API: the cross-chip comparisons, one row per chip: training (`xpuplan compare`) and
serving (`xpuplan compare --serve`), each cost on one price basis for every chip."""

from __future__ import annotations

import os
from dataclasses import dataclass

from xpuplan.api.deprecation import legacy_call
from xpuplan.api.rows import RowsResult
from xpuplan.api.serving import SLO_IN_MS, check_engine, infer
from xpuplan.api.training import train
from xpuplan.catalog.model_loader import load_model as _load_model
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.errors import InfeasibleError, SpecError
from xpuplan.serve.result import ServeResult
from xpuplan.specs.bounds import check_all
from xpuplan.specs.model import ModelSpec
from xpuplan.train.result import TrainResult

DEFAULT_COMPARE_MODEL = "llama-3.1-70b"
DEFAULT_COMPARE_CHIPS = ("h100-sxm", "h200", "b200", "gb200", "trn2", "tpu-v5p", "tpu-v6e",
                         "mi300x")
DEFAULT_COMPARE_CHIP_COUNT = 4096
DEFAULT_COMPARE_TOKENS = 15e12  # Llama 3 was pre-trained on about 15T tokens (Meta, 2024)


@dataclass
class CompareRow:
    """One chip of a training comparison: its best result, or why it has none."""
    chip: str
    result: TrainResult | None
    error: str | None

    def to_dict(self) -> dict:
        return {"chip": self.chip, "error": self.error,
                **(self.result.to_dict() if self.result else {})}


@dataclass
class Comparison(RowsResult):
    """Rows of `compare`, one per chip; iterates, indexes and counts like its list of rows."""

    model: str
    n_chips: int
    tokens: float
    rows: list[CompareRow]
    price_term: str = "on_demand"  # one basis for every chip
    usd_per_chip_hour: float | None = None  # or one given price

    def to_dict(self) -> dict:
        """What `xpuplan compare --json` prints."""
        return {"model": self.model, "n_chips": self.n_chips, "tokens": self.tokens,
                "price_basis": self.price_basis, "rows": [r.to_dict() for r in self.rows]}

    @property
    def price_basis(self) -> str:
        """The one price basis every row's cost uses, in words."""
        if self.usd_per_chip_hour is not None:
            return f"given ${self.usd_per_chip_hour:g}/chip-h for every chip"
        return (f"cheapest {self.price_term.replace('_', '-')} catalog price of each chip; "
                "no cost where a chip has no price under that term")


@legacy_call("chips", "n_chips", "tokens", "seq_len", "global_batch", "precision",
             "catalog_files", "progress")
def compare(model: str | os.PathLike | ModelSpec = DEFAULT_COMPARE_MODEL, *,
            chips: tuple[str, ...] | list[str] = DEFAULT_COMPARE_CHIPS,
            n_chips: int = DEFAULT_COMPARE_CHIP_COUNT, tokens: float = DEFAULT_COMPARE_TOKENS,
            seq_len: int | None = None, global_batch: int | None = None, precision: str = "bf16",
            catalog_files: list[str] | None = None, progress=None,
            price_term: str = "on_demand", usd_per_chip_hour: float | None = None,
            ) -> Comparison:
    """Best layout, time, cost and MFU of training `model` on `n_chips` of each chip, every
    cost on one basis: `usd_per_chip_hour` if given, else each chip's cheapest price under
    `price_term` (no fallback to another term).

    A chip that cannot run the job (precision missing, nothing fits) gets its reason instead
    of a result; an unknown chip name is still an error.
    """
    check_all(n_chips=n_chips, tokens=tokens, compare_chips=len(chips))
    m = model if isinstance(model, ModelSpec) else _load_model(model)
    rows = []
    for name in chips:
        hardware_catalog(catalog_files).chip(name)  # unknown names fail loudly
        try:
            r = train(m, chip=name, n_chips=n_chips, seq_len=seq_len,
                      global_batch=global_batch, precision=precision, tokens=tokens,
                      catalog_files=catalog_files, price_term=price_term,
                      usd_per_chip_hour=usd_per_chip_hour, price_fallback=False)
            rows.append(CompareRow(chip=name, result=r, error=None))
        except (InfeasibleError, SpecError) as exc:
            rows.append(CompareRow(chip=name, result=None, error=str(exc)))
        if progress is not None:
            progress(name)
    return Comparison(model=m.name if isinstance(model, ModelSpec) else str(model),
                      n_chips=n_chips, tokens=tokens, rows=rows,
                      price_term=price_term, usd_per_chip_hour=usd_per_chip_hour)


DEFAULT_SERVE_MODELS = ("llama-3.1-70b", "deepseek-v3")  # a 70B-class dense model, a large MoE
DEFAULT_SERVE_CHIPS = ("h200", "b200", "gb200", "mi300x", "mi355x", "trn2", "tpu-v6e")


@dataclass
class ServeCompareRow:
    """One model-chip cell of a serving comparison: its result, or why it has none."""
    model: str
    chip: str
    result: ServeResult | None
    error: str | None

    def to_dict(self) -> dict:
        out = self.result.to_dict() if self.result else {}
        out.pop("pareto", None)
        return {"model": self.model, "chip": self.chip, "error": self.error, **out}


@dataclass
class ServeComparison(RowsResult):
    """Rows of `compare_serving`, one per (model, chip); iterates like its list of rows."""

    input_len: int
    output_len: int
    rows: list[ServeCompareRow]
    price_basis: str = "cheapest on-demand catalog price of each chip"
    engine: str | None = None  # the engine every chip ran; None: each its vendor's default

    def to_dict(self) -> dict:
        """What `xpuplan compare --serve --json` prints."""
        return {"input_len": self.input_len, "output_len": self.output_len,
                "price_basis": self.price_basis, "engine": self.engine,
                "rows": [r.to_dict() for r in self.rows]}


@legacy_call("chips", "n_chips")
def compare_serving_defaults(model, *, chips: list[str], n_chips: int
                             ) -> tuple[tuple, list[str], int | None]:
    """`compare --serve` inputs from `compare`'s: the training defaults (Llama 3.1 70B, the
    training chip list, 4096 chips) stand for the serving ones (a dense 70B and a large MoE,
    the serving chip list, the fewest chips that hold each model)."""
    models = DEFAULT_SERVE_MODELS if model == DEFAULT_COMPARE_MODEL else (model,)
    names = list(DEFAULT_SERVE_CHIPS) if list(chips) == list(DEFAULT_COMPARE_CHIPS) else chips
    return models, names, None if n_chips == DEFAULT_COMPARE_CHIP_COUNT else n_chips


@legacy_call("chips", "input_len", "output_len", "weights", "ttft_ms", "tpot_ms", "n_chips",
             "catalog_files", "progress", rescaled=SLO_IN_MS)
def compare_serving(models: tuple = DEFAULT_SERVE_MODELS, *,
                    chips: tuple[str, ...] | list[str] = DEFAULT_SERVE_CHIPS,
                    input_len: int = 1024, output_len: int = 1024, weights: str = "auto",
                    ttft_s: float | None = None, tpot_s: float | None = None,
                    n_chips: int | None = None, catalog_files: list[str] | None = None,
                    progress=None, price_term: str = "on_demand",
                    usd_per_chip_hour: float | None = None,
                    engine: str | None = None) -> ServeComparison:
    """Each model served on each chip (weights 'auto' = fp8 where the chip has it, else bf16),
    every $/Mtok on one basis: `usd_per_chip_hour`, else the cheapest `price_term` price (no
    fallback to another term).

    `engine` None: each chip runs its vendor's default engine (see `serve_problem`); an engine
    given runs on every chip, so each chip's vendor must have it: else one SpecError, before
    any search, naming every chip that lacks it and the engines it has (drop those chips or
    the engine). Each row's result says the engine it ran.
    """
    check_all(input_len=input_len, output_len=output_len, ttft_s=ttft_s, tpot_s=tpot_s,
              chips=n_chips, compare_chips=len(chips), compare_models=len(models))
    cat = hardware_catalog(catalog_files)
    specs = [cat.chip(name) for name in chips]
    check_engine(engine, *specs)
    rows = []
    for model in models:
        m = model if isinstance(model, ModelSpec) else _load_model(model)
        for name, c in zip(chips, specs, strict=True):
            w = ("fp8" if c.supports("fp8") else "bf16") if weights == "auto" else weights
            try:
                r = infer(m, chip=name, n_chips=n_chips, input_len=input_len,
                          output_len=output_len, ttft_s=ttft_s, tpot_s=tpot_s, weights=w,
                          catalog_files=catalog_files, price_term=price_term,
                          usd_per_chip_hour=usd_per_chip_hour, price_fallback=False,
                          engine=engine)
                rows.append(ServeCompareRow(model=m.name, chip=c.id, result=r, error=None))
            except (InfeasibleError, SpecError) as exc:
                rows.append(ServeCompareRow(model=m.name, chip=c.id, result=None,
                                            error=str(exc)))
            if progress is not None:
                progress(name)
    basis = (f"given ${usd_per_chip_hour:g}/chip-h for every chip" if usd_per_chip_hour
             else f"cheapest {price_term.replace('_', '-')} catalog price of each chip; no "
             "cost where a chip has no price under that term")
    return ServeComparison(input_len=input_len, output_len=output_len, rows=rows,
                           price_basis=basis, engine=engine)
