"""How a tensor-parallel group splits attention heads: padding and KV replication, per rank.

With T = tp · r ranks (r = ranks per chip: logical NeuronCores on Neuron, else 1), N query and
K KV heads (MLA: K = 1, its latent is replicated on every rank):
  rule "pad" (NeuronX Distributed, data/stacks.toml aws records):
      N' = T·⌈N/T⌉ (NxD pad_model: N + (T − N mod T) when T ∤ N)
      K' = N' if K = N (MHA);  K if T | K;  T if K | T (REPLICATE_TO_TP_DEGREE);
           else N' (CONVERT_TO_MHA)               (NxD Inference modules/attention/gqa.py)
  rule "divide" (vLLM, TensorRT-LLM, Megatron-Core): legal only if T | N and (T | K or K | T);
      N' = N,  K' = max(K, T) (KV heads replicated when T > K, vLLM's attention layers)
Costs of the padded layout relative to the model's own, per chip:
  q_factor = N'/N   (Q and O projection weights and FLOPs, attention-score FLOPs)
  kv_factor = K'/K  (K and V projection weights, KV-cache bytes per token)
  attention weights per chip = P_attn · (s_q·q_factor + (1 − s_q)·kv_factor) / tp,
      s_q = 2N/(2N + 2K) the Q+O share of a GQA layer's weights (MLA: 1, its latent
      down-projection is neglected).
Worked case: 40 heads (K = 40) on 16 trn1 at tp 16, r = 2: T = 32, N' = 64, K' = 64, so
q_factor = kv_factor = 1.6: padding costs 60 % more attention weights, FLOPs and KV bytes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from xpuplan.workload.layer import LayerShape


@dataclass(frozen=True)
class HeadSplit:
    """Per configuration (n_cfg,): padded head counts, their cost factors and legality."""

    q_heads: np.ndarray  # N'
    kv_heads: np.ndarray  # K'
    q_factor: np.ndarray  # N'/N
    kv_factor: np.ndarray  # K'/K
    attn_weight_factor: np.ndarray  # padded / unpadded attention weights
    legal: np.ndarray  # bool: the stack's rule allows this TP degree


def head_split(s: LayerShape, tp, ranks_per_chip: int = 1, rule: str = "divide") -> HeadSplit:
    """Padded heads of every TP degree in `tp` (chips) under `rule` (module doc)."""
    T = np.asarray(tp, dtype=np.int64) * int(ranks_per_chip)
    N, K = s.n_heads, s.kv_heads
    if rule == "pad":
        q = T * -(-N // T)
        kv = np.select([np.full(T.shape, K == N), K % T == 0, T % K == 0], [q, K, T], q)
        legal = np.ones(T.shape, bool)
    elif rule == "divide":
        q = np.full(T.shape, N)
        kv = np.maximum(K, T)
        legal = (N % T == 0) & ((K % T == 0) | (T % K == 0))
    else:
        raise ValueError(f"unknown head rule {rule!r}")
    q_factor, kv_factor = q / N, kv / K
    share = s.q_weight_share
    return HeadSplit(q_heads=q, kv_heads=kv, q_factor=q_factor, kv_factor=kv_factor,
                     attn_weight_factor=share * q_factor + (1 - share) * kv_factor, legal=legal)
