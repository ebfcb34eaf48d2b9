"""One serving configuration's prediction, broken down: ServeResult."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from xpuplan.serve.evaluate import ServeEval
from xpuplan.serve.problem import ServeProblem


@dataclass
class ServeResult:
    """Latency, throughput, capacity and price of one layout at one batch."""

    model: str
    chip: str
    chips: int
    input_len: int
    output_len: int
    weights: str
    activations: str  # the precision GEMMs run at
    kv: str
    mode: str  # offline | fixed_batch | slo
    disaggregated: bool
    ttft_ms: float
    tpot_ms: float  # effective, with interleaved prefills (pure decode when disaggregated)
    tpot_decode_ms: float
    e2e_latency_s: float
    output_tokens_per_s: float
    output_tokens_per_s_per_chip: float
    max_concurrency: int  # sequences one replica can hold under `admission`
    admission: str  # paged_resident_tokens (mean I + O/2 held) or full_sequence (I + O)
    running_batch: int  # sequences decoding at once (paged: the batch capped at capacity)
    usd_per_mtok_output: float | None
    usd_per_mtok_input: float | None
    usd_per_chip_hour: float | None
    instance: str | None
    layout: dict
    breakdown: dict  # decode step parts (ms, sum to tpot_decode_ms) and prefill_ms
    memory_bytes: dict
    takeaway: str
    pareto: list = field(default_factory=list)
    interval: dict | None = None  # P10/P50/P90 with --interval
    confidence: dict | None = None  # calibrate.confidence: validated or extrapolated, and why

    def to_dict(self) -> dict:
        return asdict(self)


def serve_result(p: ServeProblem, ev: ServeEval, i: int, mode: str, instance: str | None
                 ) -> ServeResult:
    """The i-th evaluated serving layout as an ServeResult."""
    lay = ev.layouts.row(i)
    chips_replica = lay["tp"] * lay["pp"]
    parts = {k.split("/")[-1] + "_ms": float(v[i]) * 1e3 for k, v in ev.decode.items()}
    parts["prefill_ms"] = float(ev.prefill_s[i]) * 1e3
    memory = {k.split("/", 1)[1]: float(v[i]) for k, v in ev.memory.items()}
    price = p.usd_per_chip_s

    def usd(x: float) -> float | None:
        return None if price is None else float(x)

    bound = max((k for k in parts if k != "prefill_ms"), key=parts.get)
    step_ms = float(ev.tpot_decode_s[i]) * 1e3
    return ServeResult(
        model=p.model.name, chip=p.chip.id, chips=p.n_chips, input_len=p.input_len,
        output_len=p.output_len, weights=p.weights.value,
        activations=p.compute.value, kv=p.kv.value, mode=mode,
        disaggregated=p.disaggregated, ttft_ms=float(ev.ttft_s[i]) * 1e3,
        tpot_ms=float(ev.tpot_s[i]) * 1e3, tpot_decode_ms=float(ev.tpot_decode_s[i]) * 1e3,
        e2e_latency_s=float(ev.e2e_latency_s[i]),
        output_tokens_per_s=float(ev.output_tokens_per_s[i]),
        output_tokens_per_s_per_chip=float(ev.output_tokens_per_s_per_chip[i]),
        max_concurrency=int(ev.max_concurrency[i]), admission=ev.admission,
        running_batch=int(ev.running_batch[i]),
        usd_per_mtok_output=usd(ev.usd_per_mtok_output[i]),
        usd_per_mtok_input=usd(ev.usd_per_mtok_input[i]),
        usd_per_chip_hour=None if price is None else price * 3600, instance=instance,
        layout={**lay, "replicas": p.n_chips // chips_replica, "chips_per_replica": chips_replica},
        breakdown=parts, memory_bytes=memory,
        takeaway=(f"decode step ({step_ms:.3g} ms) bound by "
                  f"{bound.removesuffix('_ms').replace('_', ' ')} ({parts[bound] / step_ms:.0%});"
                  f" batch {lay['batch']} of max {int(ev.max_concurrency[i])} per replica"
                  + (f" ({int(ev.running_batch[i])} run, the rest queue: paged KV admission)"
                     if ev.running_batch[i] < lay["batch"] else "")),
    )


InferResult = ServeResult  # deprecated name (before the serve/ package), kept for callers
