"""What a model costs per token and in memory, gathered for display: ModelSummary."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from xpuplan.specs.model import ModelSpec
from xpuplan.specs.precision import BYTES_PER_ELEMENT, Precision
from xpuplan.workload.flops import flops_per_token_fwd, flops_per_token_train
from xpuplan.workload.params import param_counts


def weight_bytes(m: ModelSpec, precision: Precision | str) -> float:
    """Bytes of all weights at one precision, B: P_total · bytes/element (MTP excluded)."""
    return param_counts(m).total * BYTES_PER_ELEMENT[Precision(precision)]


@dataclass(frozen=True)
class ModelSummary:
    """Sizes and per-token FLOPs of a model at one sequence length (model FLOP definition)."""

    name: str
    model_type: str
    seq_len: int
    total_params: int
    active_params: int  # every weight a token touches, the embedding table included
    active_params_excluding_embedding: int  # OpenAI / DeepSeek convention
    embedding_params: int
    lm_head_params: int
    non_embedding_params: int
    mtp_params: int
    flops_per_token_fwd: float
    flops_per_token_train: float
    attention_causal_halved: bool
    weight_bytes: dict[str, float]
    shape: dict

    def to_dict(self) -> dict:
        return asdict(self)


def summarize(m: ModelSpec, seq_len: int) -> ModelSummary:
    """Parameters, model FLOPs per token (attention unhalved, PaLM convention) and weight bytes."""
    p = param_counts(m)
    return ModelSummary(
        name=m.name, model_type=m.model_type, seq_len=seq_len, total_params=p.total,
        active_params=p.active, active_params_excluding_embedding=p.active - p.embedding,
        embedding_params=p.embedding, lm_head_params=p.lm_head,
        non_embedding_params=p.non_embedding, mtp_params=p.mtp,
        flops_per_token_fwd=flops_per_token_fwd(m, seq_len),
        flops_per_token_train=flops_per_token_train(m, seq_len),
        attention_causal_halved=False,
        weight_bytes={q.value: weight_bytes(m, q) for q in Precision},
        shape=m.model_dump(exclude={"sliding_layers"}),
    )
