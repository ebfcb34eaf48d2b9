"""One serving configuration's prediction, broken down: ServeResult."""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field

from xpuplan.serve.evaluate import ServeEval, serve_rules
from xpuplan.serve.problem import ServeProblem


def _deprecated(old: str, new: str) -> None:
    warnings.warn(f"ServeResult.{old} is deprecated; use {new}", DeprecationWarning,
                  stacklevel=3)


@dataclass
class ServeResult:
    """Latency, throughput, capacity and price of one layout at one batch (SI: seconds)."""

    model: str
    chip: str
    n_chips: int
    input_len: int
    output_len: int
    weights: str
    activations: str  # the precision GEMMs run at
    kv: str
    mode: str  # offline | fixed_batch | slo
    disaggregated: bool
    ttft_s: float
    tpot_s: float  # effective, with interleaved prefills (pure decode when disaggregated)
    tpot_decode_s: float
    e2e_latency_s: float
    output_tokens_per_s: float
    output_tokens_per_s_per_chip: float
    max_concurrency: int  # sequences one replica can hold under `admission`
    admission: str  # paged_resident_tokens (mean I + O/2 held), reserved_full_sequence or
    # full_sequence (I + O): the rule of `engine` (data/stacks.toml)
    engine: str  # the serving engine whose rules and defaults were applied (tensorrt-llm, ...)
    engine_max_batch: int | None  # its cap on running sequences (None: only the KV cache caps)
    running_batch: int  # sequences decoding at once (the batch capped by the engine and KV)
    running_batch_limit: str  # what set it: requested | engine_max_batch | kv_capacity
    usd_per_mtok_output: float | None
    usd_per_mtok_input: float | None
    usd_per_chip_hour: float | None
    instance: str | None
    layout: dict
    breakdown_s: dict  # decode step parts (sum to tpot_decode_s), then "prefill"
    memory_bytes: dict
    takeaway: str
    pareto: list = field(default_factory=list)  # [{tpot_s, ttft_s, tokens/s/chip, layout}]
    interval: dict | None = None  # P10/P50/P90 with --interval
    confidence: dict | None = None  # calibrate.confidence: validated or extrapolated, and why

    def to_dict(self) -> dict:
        """The result as JSON-ready SI keys (what `xpuplan infer --json` prints)."""
        return asdict(self)

    # Deprecated names (before SI results): each warns and returns the old unit.
    @property
    def chips(self) -> int:
        """Deprecated: `n_chips`."""
        _deprecated("chips", "n_chips")
        return self.n_chips

    @property
    def ttft_ms(self) -> float:
        """Deprecated: `ttft_s` · 1e3."""
        _deprecated("ttft_ms", "ttft_s")
        return self.ttft_s * 1e3

    @property
    def tpot_ms(self) -> float:
        """Deprecated: `tpot_s` · 1e3."""
        _deprecated("tpot_ms", "tpot_s")
        return self.tpot_s * 1e3

    @property
    def tpot_decode_ms(self) -> float:
        """Deprecated: `tpot_decode_s` · 1e3."""
        _deprecated("tpot_decode_ms", "tpot_decode_s")
        return self.tpot_decode_s * 1e3

    @property
    def breakdown(self) -> dict:
        """Deprecated: `breakdown_s` in ms with `_ms` keys."""
        _deprecated("breakdown", "breakdown_s")
        return {f"{k}_ms": v * 1e3 for k, v in self.breakdown_s.items()}


def serve_result(p: ServeProblem, ev: ServeEval, i: int, mode: str, instance: str | None
                 ) -> ServeResult:
    """The i-th evaluated serving layout as a ServeResult."""
    lay = ev.layouts.row(i)
    chips_replica = lay["tp"] * lay["pp"]
    parts = {k.split("/")[-1]: float(v[i]) for k, v in ev.decode.items()}  # s
    bound = max(parts, key=lambda k: parts[k])
    parts["prefill"] = float(ev.prefill_s[i])
    memory = {k.split("/", 1)[1]: float(v[i]) for k, v in ev.memory.items()}
    cap = float(ev.engine_max_batch[i])  # inf: no engine cap
    price = p.usd_per_chip_s

    def usd(x: float) -> float | None:
        return None if price is None else float(x)

    step_s = float(ev.tpot_decode_s[i])
    return ServeResult(
        model=p.model.name, chip=p.chip.id, n_chips=p.n_chips, input_len=p.input_len,
        output_len=p.output_len, weights=p.weights.value,
        activations=p.compute.value, kv=p.kv.value, mode=mode,
        disaggregated=p.disaggregated, ttft_s=float(ev.ttft_s[i]),
        tpot_s=float(ev.tpot_s[i]), tpot_decode_s=step_s,
        e2e_latency_s=float(ev.e2e_latency_s[i]),
        output_tokens_per_s=float(ev.output_tokens_per_s[i]),
        output_tokens_per_s_per_chip=float(ev.output_tokens_per_s_per_chip[i]),
        max_concurrency=int(ev.max_concurrency[i]), admission=ev.admission,
        engine=serve_rules(p).engine,
        engine_max_batch=int(cap) if math.isfinite(cap) else None,
        running_batch=int(ev.running_batch[i]), running_batch_limit=str(ev.batch_limit[i]),
        usd_per_mtok_output=usd(ev.usd_per_mtok_output[i]),
        usd_per_mtok_input=usd(ev.usd_per_mtok_input[i]),
        usd_per_chip_hour=None if price is None else price * 3600, instance=instance,
        layout={**lay, "replicas": p.n_chips // chips_replica, "chips_per_replica": chips_replica},
        breakdown_s=parts, memory_bytes=memory,
        takeaway=(f"decode step ({step_s * 1e3:.3g} ms) bound by "
                  f"{bound.replace('_', ' ')} ({parts[bound] / step_s:.0%});"
                  f" batch {lay['batch']} of max {int(ev.max_concurrency[i])} per replica"
                  + (f" ({int(ev.running_batch[i])} run, the rest queue: "
                     f"{str(ev.batch_limit[i]).replace('_', ' ')})"
                     if ev.running_batch[i] < lay["batch"] else "")),
    )


InferResult = ServeResult  # deprecated name (before the serve/ package), kept for callers
