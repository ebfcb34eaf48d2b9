"""Request bodies of the JSON API: one pydantic model per command.

Field names are the command's long options with underscores (`--seq-len` -> `seq_len`), so a
request reads like the command line. Bounds keep one request small enough to answer within
the server's time limit; they are search-size limits, not physical figures.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from xpuplan import api

MAX_CHIPS = 10**7  # chips in one job: ~100x today's largest clusters
MAX_SEQ_LEN = 2**21  # tokens per sequence
MAX_GLOBAL_BATCH = 10**8  # sequences per step
MAX_TOKENS_LEN = 32  # characters of a count such as "15T"
MAX_KNOB = 2**20  # tp, pp, dp, cp, ep, vpp, micro_batch, batch
MAX_SERVE_LEN = 10**7  # input or output tokens per request served
MAX_SLO_S = 1e6  # an SLO beyond ~11 days means none
MAX_SLO_MS = MAX_SLO_S * 1e3
MAX_TOP = 50  # layouts a search may list
MAX_COMPARE_CHIPS = 16  # chips in one comparison
MAX_NAME_LEN = 200  # characters of a model or chip name
MAX_TOKENS = 1e18  # training tokens: ~1000x today's largest runs

Name = Field(min_length=1, max_length=MAX_NAME_LEN)
CHIPS_ALIAS = AliasChoices("n_chips", "chips")  # `chips`: the name before SI results
Knob = Field(None, ge=1, le=MAX_KNOB, description="Fix this knob (blank: searched).")
Tokens = (Annotated[str, Field(min_length=1, max_length=MAX_TOKENS_LEN)]
          | Annotated[float, Field(gt=0, le=MAX_TOKENS)])


class Request(BaseModel):
    """Base of every request body: unknown keys are refused."""
    model_config = ConfigDict(extra="forbid")


class ModelChoice(Request):
    """A request naming a model, optionally with an uploaded config.json."""
    model: str = Field(min_length=1, max_length=MAX_NAME_LEN,
                       description="Built-in model name (xpuplan models); a path or Hugging "
                                   "Face id only if the server was started with --allow-paths.")
    config: dict[str, Any] | None = Field(
        None, description="An uploaded Hugging Face config.json object; `model` names it.")


class LayoutRequest(ModelChoice):
    """What `train` and `search` share: the job and the layout knobs."""

    chip: str = Name
    n_chips: int = Field(ge=1, le=MAX_CHIPS, validation_alias=CHIPS_ALIAS,
                         description="Chips (`chips`: a deprecated alias).")
    seq_len: int | None = Field(None, ge=1, le=MAX_SEQ_LEN)
    global_batch: int | None = Field(None, ge=1, le=MAX_GLOBAL_BATCH)
    precision: api.Precision = api.Precision.bf16
    tp: int | None = Knob
    pp: int | None = Knob
    dp: int | None = Knob
    cp: int | None = Knob
    ep: int | None = Knob
    vpp: int | None = Knob
    micro_batch: int | None = Knob
    zero: int | None = Field(None, ge=0, le=3)
    recompute: api.Recompute | None = None

    def fixed(self) -> dict:
        """The layout knobs given, as `api.train(**fixed)` takes them."""
        knobs = {k: getattr(self, k) for k in ("tp", "pp", "dp", "cp", "ep", "vpp",
                                               "micro_batch", "zero")}
        return {**knobs, "recompute": self.recompute.value if self.recompute else None}


class TrainRequest(LayoutRequest):
    """`xpuplan train MODEL --chip CHIP --chips N [--tokens 15T] [--interval] ...`"""

    tokens: Tokens | None = Field(None, description="Training tokens, e.g. 15T.")
    interval: bool = False


class SearchRequest(LayoutRequest):
    """`xpuplan search MODEL --chip CHIP --chips N --top K ...`"""

    top: int = Field(5, ge=1, le=MAX_TOP)


class InferRequest(ModelChoice):
    """`xpuplan infer MODEL --chip CHIP ...`"""

    chip: str = Name
    n_chips: int | None = Field(None, ge=1, le=MAX_CHIPS, validation_alias=CHIPS_ALIAS,
                                description="Chips (blank: the fewest that hold the weights; "
                                            "`chips`: a deprecated alias).")
    input_len: int = Field(1024, ge=1, le=MAX_SERVE_LEN)
    output_len: int = Field(1024, ge=1, le=MAX_SERVE_LEN)
    batch: int | None = Knob
    ttft_s: float | None = Field(None, gt=0, le=MAX_SLO_S, description="SLO on TTFT, s.")
    tpot_s: float | None = Field(None, gt=0, le=MAX_SLO_S, description="SLO on TPOT, s.")
    # the SLOs in ms: the page form's unit; in a JSON body deprecated (so marked in OpenAPI)
    ttft_ms: float | None = Field(None, gt=0, le=MAX_SLO_MS, json_schema_extra={
        "deprecated": True}, description="Deprecated in JSON bodies: ttft_s in ms.")
    tpot_ms: float | None = Field(None, gt=0, le=MAX_SLO_MS, json_schema_extra={
        "deprecated": True}, description="Deprecated in JSON bodies: tpot_s in ms.")
    tp: int | None = Knob
    pp: int | None = Knob
    ep: int | None = Knob
    weights: api.Weights = api.Weights.bf16
    activations: api.Weights | None = None
    kv: api.Kv | None = None
    disaggregated: bool = False
    interval: bool = False
    engine: str | None = Field(None, min_length=1, max_length=MAX_NAME_LEN, description=(
        "Serving engine (tensorrt-llm, vllm, sglang, ...; blank: the chip vendor's default)."))

    @model_validator(mode="after")
    def _slo_in_seconds(self):
        """The ms SLOs (deprecated) as the seconds the API takes."""
        for old, new in (("ttft_ms", "ttft_s"), ("tpot_ms", "tpot_s")):
            ms = getattr(self, old)
            if ms is not None:
                if getattr(self, new) is not None:
                    raise ValueError(f"give {new} (seconds) or {old}, not both")
                setattr(self, new, ms / 1e3)
        return self


class CompareRequest(ModelChoice):
    """`xpuplan compare [MODEL] --chip A,B,C --chips N ... [--serve]`"""

    model: str = Field(api.DEFAULT_COMPARE_MODEL, min_length=1, max_length=MAX_NAME_LEN)
    chip: str = Field(",".join(api.DEFAULT_COMPARE_CHIPS), min_length=1,
                      max_length=MAX_COMPARE_CHIPS * MAX_NAME_LEN,
                      description="Comma-separated chips.")
    n_chips: int = Field(api.DEFAULT_COMPARE_CHIP_COUNT, ge=1, le=MAX_CHIPS,
                         validation_alias=CHIPS_ALIAS,
                         description="Chips of each training run (`chips`: a deprecated alias).")
    tokens: Tokens = "15T"
    seq_len: int | None = Field(None, ge=1, le=MAX_SEQ_LEN)
    global_batch: int | None = Field(None, ge=1, le=MAX_GLOBAL_BATCH)
    precision: api.Precision = api.Precision.bf16
    serve: bool = False
    input_len: int = Field(1024, ge=1, le=MAX_SERVE_LEN)
    output_len: int = Field(1024, ge=1, le=MAX_SERVE_LEN)
    engine: str | None = Field(None, min_length=1, max_length=MAX_NAME_LEN, description=(
        "Serving engine every chip runs (serve only; blank: each chip vendor's default)."))

    def chip_names(self) -> list[str]:
        return [c.strip() for c in self.chip.split(",") if c.strip()]


class PlanRequest(Request):
    """`xpuplan plan --example NAME`, or a scenario given as an object or as YAML text."""

    example: str | None = Field(None, min_length=1, max_length=MAX_NAME_LEN)
    scenario: dict[str, Any] | str | None = Field(
        None, description="A scenario object, or its YAML text (parsed with safe_load).")
