"""Request bodies of the JSON API: one pydantic model per command.

Field names are the command's long options with underscores (`--seq-len` -> `seq_len`), so a
request reads like the command line (`--saved-inputs` -> `saved_inputs`, `--cuda-graphs/--eager`
-> `cuda_graphs` or `eager`), with the command's defaults. Bounds keep one request small enough to
answer within the server's time limit; they are search-size limits, not physical figures. The
run settings of a published run (memory knobs, engine settings) take their ranges from
data/bounds.toml (`api_range`), the ones the API checks, so a value the API refuses is a 422
naming the field before any work.
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator

from xpuplan import api
from xpuplan.limits import bounds_table

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
MAX_POLICY_LEN = 1000  # a custom remat policy: ~16 MaxText tensor names of ~25 characters each
MAX_BUCKETS = 64  # compiled context buckets: a Neuron compile lists a handful (powers of two)

Name = Field(min_length=1, max_length=MAX_NAME_LEN)
CHIPS_ALIAS = AliasChoices("n_chips", "chips")  # `chips`: the name before SI results


def api_range(bound: str) -> tuple[float, float]:
    """(min, max) of data/bounds.toml's bound for the API input `bound`: the range
    `xpuplan.api` checks, as integers for an integer bound."""
    row = next(r for r in bounds_table()["bound"].values() if bound in r["fields"])
    kind = int if row.get("integer") else float
    return kind(row["min"]), kind(row["max"])


def bounded(default: Any, bound: str, *, exclusive_min: bool = False, **kw: Any) -> Any:
    """A Field with a default and the API's range for `bound` (api_range); `exclusive_min`
    for an API that also refuses the minimum (a price of 0)."""
    lo, hi = api_range(bound)
    return Field(default, gt=lo if exclusive_min else None, ge=None if exclusive_min else lo,
                 le=hi, **kw)


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


class MemoryKnobs(LayoutRequest):
    """What `train` and `search` share beyond the layout: the memory settings of a run."""

    state_format: str = Field("megatron", min_length=1, max_length=MAX_NAME_LEN, description=(
        "Model-state bytes per parameter (memory only): megatron (2+4+12 B), "
        "megatron-bf16-grads (2+2+16 B) or maxtext-W-G-M (each of W, G, M fp32 or bf16)."))
    cpu_offload_layers: int = bounded(0, "cpu_offload_layers", description=(
        "Layers whose activations go to host memory (Megatron --cpu-offloading-num-layers; "
        "0 to layers-1; memory only)."))
    saved_inputs: str = Field("bf16", min_length=1, max_length=MAX_NAME_LEN, description=(
        "GEMM inputs kept for the weight gradients: bf16, or fp8 | mxfp8 (under precision "
        "fp8; memory only)."))

    def memory(self) -> dict:
        """The memory settings as `api.train_problem` takes them."""
        return {"state_format": self.state_format, "cpu_offload_layers": self.cpu_offload_layers,
                "saved_input_format": self.saved_inputs}


class PriceBasis(Request):
    """`--price-term` and `--usd-per-chip-hour`: the price a cost is computed at."""

    price_term: api.PriceTerm = api.PriceTerm.on_demand
    usd_per_chip_hour: float | None = bounded(
        None, "usd_per_chip_hour", exclusive_min=True,
        description="One given price per chip-hour instead of the catalog's.")

    def price(self) -> dict:
        """The price basis as the API takes it."""
        return {"price_term": self.price_term.value, "usd_per_chip_hour": self.usd_per_chip_hour}


class TrainRequest(PriceBasis, MemoryKnobs):
    """`xpuplan train MODEL --chip CHIP --chips N [--tokens 15T] [--interval] ...`"""

    tokens: Tokens | None = Field(None, description="Training tokens, e.g. 15T.")
    interval: bool = False
    remat_policy: str | None = Field(None, min_length=1, max_length=MAX_POLICY_LEN, description=(
        "MaxText remat policy (a preset, or custom:name=device|offload|remat;...) instead of "
        "recompute."))
    dense_attention: bool = Field(False, description=(
        "Attention materialises the S x S scores (no flash kernel)."))
    capacity_factor: float | None = bounded(None, "moe_capacity_factor", description=(
        "Token-dropping MoE capacity factor (blank: dropless)."))


class SearchRequest(MemoryKnobs):
    """`xpuplan search MODEL --chip CHIP --chips N --top K ...`"""

    top: int = Field(5, ge=1, le=MAX_TOP)


_SEQ_MIN, _SEQ_MAX = api_range("context_buckets")
SequenceLen = Annotated[int, Field(ge=_SEQ_MIN, le=_SEQ_MAX)]


class InferRequest(PriceBasis, ModelChoice):
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
    # how the engine ran (api.infer's run settings; blank: the engine's default)
    max_running_batch: int | None = bounded(None, "max_running_batch", description=(
        "Engine cap on running sequences (e.g. --max-num-seqs; blank: the engine's)."))
    scheduler_steps: int | None = bounded(None, "scheduler_steps", description=(
        "Decode steps per scheduler call (vLLM V0 --num-scheduler-steps)."))
    cuda_graphs: bool = Field(True, description="Kernels launched from captured graphs.")
    eager: bool = Field(False, description="Kernels launched eagerly (cuda_graphs false).")
    async_scheduling: bool = Field(False, description=(
        "Host schedules the next step while the device runs (vLLM async scheduling)."))
    context_buckets: (Annotated[list[SequenceLen], Field(min_length=1, max_length=MAX_BUCKETS)]
                      | Annotated[str, Field(min_length=1, max_length=MAX_BUCKETS * 10)]
                      | None) = Field(None, description=(
        "Compiled context-encoding buckets a prompt pads up to: [2048, 4096] or '2048,4096'."))
    static_kv_tokens: int | None = bounded(None, "static_kv_tokens", description=(
        "Static KV cache per decode slot, tokens, read whole each step (JetStream)."))
    compiled_batch: int | None = bounded(None, "compiled_batch", description=(
        "Static-shape export's batch every decode step computes (Neuron batch_size)."))
    compiled_seq_len: int | None = bounded(None, "compiled_seq_len", description=(
        "Static-shape export's sequence length: cache per slot, prompts pad to it (Neuron)."))

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

    @model_validator(mode="after")
    def _eager_is_no_graphs(self):
        """`eager` (the CLI's --eager) as cuda_graphs false; both true is a contradiction."""
        if self.eager:
            if self.cuda_graphs and "cuda_graphs" in self.model_fields_set:
                raise ValueError("give cuda_graphs true or eager true, not both")
            self.cuda_graphs = False
        return self

    def run_settings(self) -> dict:
        """How the engine ran, as `api.infer` takes it (buckets as text parsed as the CLI
        parses --context-buckets)."""
        buckets = self.context_buckets
        return {"max_running_batch": self.max_running_batch,
                "scheduler_steps": self.scheduler_steps, "cuda_graphs": self.cuda_graphs,
                "async_scheduling": self.async_scheduling,
                "context_buckets": api.parse_buckets(buckets) if isinstance(buckets, str)
                else buckets, "static_kv_tokens": self.static_kv_tokens,
                "compiled_batch": self.compiled_batch, "compiled_seq_len": self.compiled_seq_len}


class CompareRequest(PriceBasis, ModelChoice):
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
