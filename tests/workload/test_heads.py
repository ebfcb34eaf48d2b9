"""Head padding and KV replication per stack rule (workload.heads), hand-worked."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from xpuplan import api
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.errors import SpecError
from xpuplan.hardware.roofline import chip_rates
from xpuplan.specs.layouts import Layouts
from xpuplan.train.evaluate import evaluate, train_heads
from xpuplan.train.step import step_time
from xpuplan.workload.heads import head_split
from xpuplan.workload.layer import layer_shape


def _shape(n, k):
    return SimpleNamespace(n_heads=n, kv_heads=k, q_weight_share=n / (n + k))


@pytest.mark.parametrize("n,k,ranks,q,kv", [
    # NxD Inference gqa.py's own example: tp_degree 32, 56 Q -> 64, 8 KV -> 32 (replicated).
    (56, 8, 32, 64, 32),
    (56, 8, 12, 60, 60),  # 12 neither divides nor is divided by 8: CONVERT_TO_MHA, K' = N'
    (40, 40, 32, 64, 64),  # MHA: KV heads padded with the Q heads
    (64, 8, 8, 64, 8),  # nothing to pad
])
def test_neuron_pad_rule(n, k, ranks, q, kv):
    h = head_split(_shape(n, k), np.array([ranks]), 1, "pad")
    assert (int(h.q_heads[0]), int(h.kv_heads[0]), bool(h.legal[0])) == (q, kv, True)
    # Attention weights grow by the Q+O share times N'/N plus the K+V share times K'/K.
    share = n / (n + k)
    assert h.attn_weight_factor[0] == pytest.approx(share * q / n + (1 - share) * kv / k)


def test_divide_rule_replicates_kv_and_refuses_uneven_heads():
    h = head_split(_shape(64, 8), np.array([16, 6]), 1, "divide")
    assert list(h.legal) == [True, False]  # 16 | 64 with KV 8 | 16; 6 divides neither
    assert h.kv_heads[0] == 16 and h.kv_factor[0] == 2.0  # each KV head on two ranks


def test_trn1_ranks_count_logical_cores():
    cat = hardware_catalog()
    assert cat.chip("trn1").ranks_per_chip == 2  # 2 NeuronCore-v2, LNC = 1
    assert cat.chip("trn2").ranks_per_chip == 4  # 8 NeuronCore-v3, LNC = 2
    assert cat.chip("h100").ranks_per_chip == 1


def test_issue_11_40_heads_on_16_trn1_at_tp16_run_with_padding():
    # Llama 2 13B has 40 heads (MHA). tp 16 chips = 32 NeuronCore ranks: NxD pads to 64
    # heads, so attention weights, projection FLOPs and score FLOPs all grow by 64/40 = 1.6.
    r = api.train("llama-2-13b", chip="trn1", n_chips=16, tp=16, pp=1)
    assert r.parallelism["tp"] == 16
    p = api.train_problem("llama-2-13b", chip="trn1", n_chips=16)
    lay = Layouts.build(tp=16, pp=1, dp=1, micro_batch=1)
    h = train_heads(p, lay)
    assert (int(h.q_heads[0]), float(h.attn_weight_factor[0])) == (64, pytest.approx(1.6))
    padded = evaluate(p, lay)
    plain = step_time(layer_shape(p.model), lay, p.seq_len, p.global_batch,
                      chip_rates(p.chip, p.efficiency, p.precision))  # no padding
    key = "time/compute/attention"
    assert padded.time[key][0] / plain[key][0] == pytest.approx(1.6, rel=1e-9)
    # The same layout on H100 (Megatron-Core: tp must divide the heads) is refused, naming
    # the stack and its rule.
    with pytest.raises(SpecError) as err:
        api.train("llama-2-13b", chip="h100", n_chips=16, tp=16, pp=1)
    assert "Megatron-Core" in str(err.value) and "rule 'divide'" in str(err.value)
