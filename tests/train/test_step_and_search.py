"""Training step time, MFU, search and the training CLI/API error paths."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xpuplan import api
from xpuplan.errors import InfeasibleError, SpecError
from xpuplan.specs.layouts import Layouts
from xpuplan.train.evaluate import evaluate
from xpuplan.workload.flops import flops_per_token_train

LAYOUT = dict(tp=8, pp=2, dp=4, micro_batch=1, zero=1, recompute="selective")


def _problem(chip="h100", chips=64, model="llama-3.1-70b", **kw):
    return api.train_problem(model, chip=chip, n_chips=chips, **kw)


def test_parts_sum_to_step_time_and_memory():
    r = api.train("llama-3.1-70b", chip="h100", n_chips=64, **LAYOUT)
    assert sum(r.breakdown_s.values()) == pytest.approx(r.step_time_s)
    assert sum(r.memory_bytes.values()) == pytest.approx(r.memory_per_chip_bytes)


def test_mfu_uses_the_model_flop_definition():
    r = api.train("llama-3.1-70b", chip="h100", n_chips=64, **LAYOUT)
    m = api.load_model("llama-3.1-70b")
    peak = 64 * api.chip("h100").bf16_dense_flops
    # causal attention: the FLOPs the kernels run (workload.flops), so MFU <= 1 by construction
    assert r.mfu == pytest.approx(r.tokens_per_s * flops_per_token_train(m, 8192, causal=True)
                                  / peak)
    assert r.mfu < r.tokens_per_s * flops_per_token_train(m, 8192) / peak
    assert r.hfu >= r.mfu


def test_full_recompute_hfu_adds_one_forward():
    r = api.train("llama-3.1-70b", chip="h100", n_chips=64, **{**LAYOUT, "recompute": "full"})
    assert r.hfu / r.mfu == pytest.approx(4 / 3, rel=0.01)


def test_array_path_equals_single_path():
    p = _problem()
    many = Layouts.build(tp=[8, 4, 8], pp=[2, 4, 1], dp=[4, 4, 8], zero=1, recompute=1)
    batch = evaluate(p, many)
    for i in range(3):
        single = evaluate(p, many.take([i]))
        assert single.step_time_s[0] == pytest.approx(batch.step_time_s[i])
        assert single.memory_per_chip_bytes[0] == pytest.approx(batch.memory_per_chip_bytes[i])


def test_same_work_written_differently_gives_same_tokens_per_s(tmp_path):
    # Built-in name vs the same config.json on disk; "15T" vs 15e12 tokens.
    from xpuplan.catalog.models import model_entries

    path = tmp_path / "config.json"
    path.write_text(model_entries()["llama-3.1-70b"].config_path.read_text())
    a = api.train("llama-3.1-70b", chip="h100", n_chips=64, tokens=15e12, **LAYOUT)
    b = api.train(str(path), chip="h100-sxm", n_chips=64, tokens=15_000_000_000_000, **LAYOUT)
    assert a.tokens_per_s == pytest.approx(b.tokens_per_s)
    assert a.run.cost_usd == pytest.approx(b.run.cost_usd)


@settings(max_examples=25, deadline=None)
@given(flops=st.floats(1.0, 4.0), hbm=st.floats(1.0, 4.0), link=st.floats(1.0, 4.0))
def test_faster_chip_never_slower(flops, hbm, link):
    p = _problem()
    c = p.chip
    faster = c.model_copy(update={
        "bf16_dense_flops": c.bf16_dense_flops * flops, "hbm_bw": c.hbm_bw * hbm,
        "scaleup_bw_unidir": c.scaleup_bw_unidir * link,
        "scaleout_bw_unidir": c.scaleout_bw_unidir * link})
    from dataclasses import replace

    lay = Layouts.build(tp=[8, 4, 2], pp=[2, 2, 4], dp=[4, 8, 8], zero=1, recompute=1)
    slow = evaluate(p, lay).step_time_s
    fast = evaluate(replace(p, chip=faster), lay).step_time_s
    assert (fast <= slow * (1 + 1e-12)).all()


@settings(max_examples=20, deadline=None)
@given(price=st.floats(0.1, 100.0), k=st.floats(0.1, 10.0))
def test_cost_is_linear_in_price(price, k):
    from xpuplan.catalog.registry import hardware_catalog
    from xpuplan.economics.run_cost import training_run_cost

    chip = api.chip("h100")
    one = training_run_cost(1e12, 1e6, 64, chip, hardware_catalog(), usd_per_chip_hour=price)
    two = training_run_cost(1e12, 1e6, 64, chip, hardware_catalog(), usd_per_chip_hour=price * k)
    assert two.cost_usd == pytest.approx(k * one.cost_usd)


def test_more_chips_never_slower_per_step_at_fixed_per_replica_config():
    # Weak scaling with the same micro-batch count per replica: 2x dp, 2x batch, same layout.
    small = api.train("llama-3.1-8b", chip="h100", n_chips=64, global_batch=64, tp=1, pp=1, dp=64, zero=1,
                      recompute="full")
    big = api.train("llama-3.1-8b", chip="h100", n_chips=128, global_batch=128, tp=1, pp=1, dp=128, zero=1,
                    recompute="full")
    assert big.tokens_per_s >= small.tokens_per_s


def test_search_returns_fitting_layouts_best_first():
    best, found = api.search_layouts(_problem(chips=256), top=5)
    assert found.configs_evaluated > 1000
    speeds = [b.tokens_per_s for b in best]
    assert speeds == sorted(speeds, reverse=True)
    assert all(b.fits and b.memory_per_chip_bytes <= b.hbm_bytes for b in best)


@pytest.mark.parametrize("chips,layout,needle", [
    (64, dict(tp=3, pp=1, dp=21), "tp·pp·dp·cp must equal the chip count"),
    (8, dict(tp=3), "tp·pp·dp·cp = 6, chips = 8"),  # one knob given, the rest left free
    (8, dict(cp=3), "tp·pp·dp·cp = 6, chips = 8"),
    (60, dict(tp=6, pp=1, dp=10, cp=1), "must divide the attention heads"),
    (128, dict(tp=1, pp=128, dp=1, cp=1), "pp·vpp must not exceed the layers"),
    (64, dict(tp=8, pp=1, dp=8, ep=2), "ep must divide the experts"),
])
def test_bad_layouts_name_the_constraint(chips, layout, needle):
    with pytest.raises(SpecError) as err:
        api.train("llama-3.1-70b", chip="h100", n_chips=chips, **layout)
    assert needle in str(err.value)


def test_stated_layout_over_hbm_is_predicted_and_marked():
    # a published layout the memory estimate cannot fit is predicted as stated, not refused:
    # fits False, the estimate above HBM, the speed that of evaluating the layout itself
    r = api.train("llama-3.1-70b", chip="h100", n_chips=64, tp=1, pp=1, dp=64, zero=0,
                  micro_batch=1, recompute="none", vpp=1, cp=1, ep=1)
    p = api.train_problem("llama-3.1-70b", chip="h100", n_chips=64)
    ev = evaluate(p, Layouts.build(tp=1, pp=1, dp=64, zero=0, micro_batch=1, recompute=0,
                                   vpp=1, cp=1, ep=1))
    assert not r.fits and r.memory_per_chip_bytes > r.hbm_bytes == p.chip.hbm_bytes
    assert r.tokens_per_s == pytest.approx(float(ev.tokens_per_s[0]), rel=1e-12)
    share = r.memory_per_chip_bytes / r.hbm_bytes
    assert r.takeaway.startswith(f"over HBM by the memory estimate ({share:.2f}x")


def test_free_search_that_fits_nowhere_still_refuses():
    with pytest.raises(InfeasibleError, match="chips would fit"):
        api.train("llama-3.1-405b", chip="h100", n_chips=1)


@pytest.mark.parametrize("kwargs,field", [
    (dict(chips=0), "chips"), (dict(chips=-8), "chips"), (dict(seq_len=0), "seq_len"),
    (dict(global_batch=-1), "global_batch"), (dict(precision="fp4"), "precision"),
    (dict(precision="fp7"), "precision"),
])
def test_bad_sizes_and_precisions(kwargs, field):
    args = {"chips": 64, **kwargs}
    with pytest.raises(SpecError) as err:
        api.train_problem("llama-3.1-8b", chip="h100", n_chips=args.pop("chips"), **args)
    assert field in str(err.value)


def test_search_where_nothing_fits_names_a_chip_count():
    with pytest.raises(InfeasibleError, match=r"\d+ chips would fit"):
        api.train("llama-3.1-405b", chip="tpu-v5e", n_chips=16, global_batch=16)


def test_train_cli_json_keys(run_json):
    d = run_json("train", "llama-3.1-70b", "--chip", "h100", "--chips", "64", "--tokens", "1T",
                 "--tp", "8", "--pp", "2", "--dp", "4", "--zero", "1", "--recompute",
                 "selective", "--interval")
    for key in ("step_time_s", "tokens_per_s", "mfu", "hfu", "fits", "memory_per_chip_bytes",
                "parallelism", "breakdown_s", "memory_bytes", "time_to_train_s", "chip_hours",
                "cost_usd", "energy_j", "instance"):
        assert key in d, key
    assert "energy_kwh" not in d
    assert d["energy_j"] == pytest.approx(64 * api.chip("h100").tdp_w * d["time_to_train_s"])
    assert d["parallelism"]["tp"] == 8 and d["parallelism"]["recompute"] == "selective"
    lo, mid, hi = d["interval"]["step_time_s"]
    assert lo < mid < hi


def test_train_cli_bad_layout_is_one_line(run_cli):
    code, out, err = run_cli("train", "llama-3.1-70b", "--chip", "h100", "--chips", "64",
                             "--tp", "6", "--pp", "1", "--dp", "10")
    assert code == 2 and out == "" and err.count("\n") == 1 and "tp" in err


def test_compare_default_runs_every_chip(run_json):
    d = run_json("compare")
    chips = [r["chip"] for r in d["rows"]]
    assert chips == list(api.DEFAULT_COMPARE_CHIPS)
    for r in d["rows"]:
        assert r["error"] is None and 0.05 < r["mfu"] < 0.9 and r["time_to_train_s"] > 0


def test_search_cli_reports_speed(run_json):
    d = run_json("search", "llama-3.1-8b", "--chip", "h100", "--chips", "64", "--top", "3")
    assert d["configs_evaluated"] > 100 and len(d["top"]) == 3 and d["search_time_s"] > 0


def test_chunked_evaluation_equals_one_call():
    from xpuplan.train.search import candidate_grid, evaluate_chunked

    p = _problem(chips=256)
    grid = candidate_grid(p, {})
    whole = evaluate(p, grid)
    parts = evaluate_chunked(p, grid, chunk=997)
    assert np.array_equal(whole.reason, parts.reason)
    assert np.allclose(whole.step_time_s, parts.step_time_s)
    assert np.allclose(whole.time["time/comm/tp"], parts.time["time/comm/tp"])


def test_chip_without_interconnect_says_so(tmp_path):
    # A user chip with compute and HBM but no link bandwidth: one chip works, many cannot.
    path = tmp_path / "c.yaml"
    path.write_text("chips:\n  - id: lonely\n    vendor: acme\n    name: Lonely\n"
                    "    bf16_dense_tflops: 400\n    hbm_gb: 96\n    hbm_tb_per_s: 3\n"
                    "    source: test\n    retrieved: '2026-11-25'\n")
    one = api.train("gpt2", chip="lonely", n_chips=1, catalog_files=[str(path)], tp=1, pp=1, dp=1,
                    recompute="full", zero=0, global_batch=8)
    assert one.tokens_per_s > 0
    with pytest.raises(InfeasibleError, match="no interconnect bandwidth"):
        api.train("llama-3.1-8b", chip="lonely", n_chips=64, catalog_files=[str(path)])


def test_learned_position_table_caps_the_sequence():
    # GPT-2 has 1024 learned position rows (config n_positions = 1024): the default training
    # sequence shrinks to fit, a longer one is refused naming the table, and so is serving.
    assert api.train_problem("gpt2", chip="h100", n_chips=1).seq_len == 1024
    assert api.train_problem("llama-3.1-8b", chip="h100", n_chips=1).seq_len == 8192
    with pytest.raises(SpecError, match="learned position table of 1024 rows"):
        api.train_problem("gpt2", chip="h100", n_chips=1, seq_len=2048)
    with pytest.raises(SpecError, match="input_len \\+ output_len = 2048"):
        api.infer("gpt2", chip="h100", n_chips=1, input_len=1024, output_len=1024)


def test_run_cost_old_names_warn_and_return_the_old_units():
    r = api.train("llama-3.1-8b", chip="h100", n_chips=8, tokens=1e11)
    with pytest.warns(DeprecationWarning, match="energy_j"):
        assert r.run.energy_kwh == pytest.approx(r.run.energy_j / 3.6e6)
    with pytest.warns(DeprecationWarning, match="run.cost_usd"):
        assert r.run["cost_usd"] == r.run.cost_usd
    with pytest.warns(DeprecationWarning, match="'chips' \\(now 'n_chips'\\)"):
        assert api.train("llama-3.1-8b", chip="h100", chips=8, tokens=1e11) == r


@pytest.mark.parametrize("vpp,legal", [(8, True), (9, False)])
def test_virtual_stages_may_count_the_embedding_and_loss(vpp, legal):
    # Megatron-core's account_for_embedding/loss_in_pipeline_split: L + 2 virtual stages;
    # pp 16 x vpp 8 = 128 over Llama 3.1 405B's 126 layers ran (Megatron-Bridge 26.02)
    from xpuplan.train.evaluate import TrainReason, legality

    p = api.train_problem("llama-3.1-405b", chip="gb200", n_chips=256, seq_len=8192,
                          global_batch=1536)
    lay = Layouts.build(tp=4, pp=16, dp=4, vpp=vpp, micro_batch=1)
    reason = int(legality(p, lay)[0])
    assert (reason != TrainReason.LAYERS) is legal
    assert 16 * vpp - p.model.n_layers == (2 if legal else 18)
