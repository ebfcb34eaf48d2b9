"""Inference model: hand-worked decode bound, properties, search, CLI and error paths."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xpuplan import api
from xpuplan.catalog.registry import hardware_catalog
from xpuplan.errors import InfeasibleError, SpecError
from xpuplan.hardware.stacks import stack_rules
from xpuplan.serve.evaluate import evaluate_serving
from xpuplan.specs.layouts import ServeLayouts


def _problem(chip="h100", chips=8, model="llama-3.1-70b", **kw):
    return api.serve_problem(model, chip=chip, n_chips=chips, **kw)[0]


def test_batch1_decode_on_8_h100_is_bounded_by_weight_bytes():
    # Llama 3.1 70B bf16 = 70.55e9 params x 2 B = 141.1 GB; split over tp = 8 -> 17.6 GB per
    # chip; at H100's 3.35 TB/s peak the read alone takes 17.6e9 / 3.35e12 = 5.27 ms, a floor
    # for the time per output token at batch 1. With the achievable bandwidth the read takes
    # exactly weights / (B · η_stream · memory_scale).
    p = _problem()
    ev = evaluate_serving(p, ServeLayouts.build(tp=8, batch=1))
    weights_per_chip = 2 * 70_553_706_496 / 8
    peak = p.chip.hbm_bw  # read from the catalog record, never a copy of it
    assert ev.tpot_decode_s[0] >= weights_per_chip / peak
    bw = p.chip.hbm_bw * p.efficiency.hbm * p.calibration.memory_scale
    head_and_layers = ev.decode["time/decode/weights_read"][0]
    assert head_and_layers == pytest.approx(weights_per_chip / bw, rel=0.02)  # norms, no embed
    assert sum(v[0] for v in ev.decode.values()) == pytest.approx(ev.tpot_decode_s[0])


def test_a_compute_bound_decode_step_still_waits_for_its_kv_read():
    # Llama 3.1 70B, FP4 weights and FP8 KV on one B200, batch 1024, I = 222, O = 276: the
    # GEMMs are compute-bound (2·70.6e9 FLOP per token x 1024 ≈ 145 TFLOP against ~35 GB of
    # weights), yet attention reads 2 (K, V) x 8 KV heads x 128 x 80 layers x 1 B = 163,840 B
    # per cached token of the mean context I + O/2 = 360 tokens per sequence: 1024 x 360 x
    # 163,840 B = 60.4 GB, after the GEMMs, not hidden under them (serve.step.DecodeStage).
    p = api.serve_problem("llama-3.1-70b", chip="b200", n_chips=1, input_len=222,
                          output_len=276, weights="fp4", kv="fp8")[0]
    ev = evaluate_serving(p, ServeLayouts.build(tp=1, batch=1024))
    assert ev.running_batch[0] == 1024
    bw = p.chip.hbm_bw * p.efficiency.hbm * p.calibration.memory_scale
    kv_read = 1024 * 360 * 163_840 / bw
    assert ev.decode["time/decode/kv_read"][0] == pytest.approx(kv_read, rel=1e-9)
    assert ev.decode["time/decode/weights_read"][0] == 0.0  # the GEMMs bound by FLOPs
    compute = ev.decode["time/decode/compute"][0]
    assert compute > 0 and ev.tpot_decode_s[0] >= compute + kv_read


def test_mla_kv_cache_is_the_compressed_latent():
    # DeepSeek-V3 caches kv_lora_rank + rope = 512 + 64 = 576 elements per token per layer
    # (DeepSeek-V2 sec. 2.1.3), vs 2·K·H = 2·128·192 = 49,152 for the uncompressed heads.
    from xpuplan.workload.layer import layer_shape

    assert layer_shape(api.load_model("deepseek-v3")).kv_elems_per_token == 576
    assert layer_shape(api.load_model("llama-3.1-70b")).kv_elems_per_token == 2 * 8 * 128


def test_moe_decode_reads_only_touched_experts():
    p = _problem(chip="h200", model="mixtral-8x7b", chips=2)
    small = evaluate_serving(p, ServeLayouts.build(tp=2, batch=1))
    big = evaluate_serving(p, ServeLayouts.build(tp=2, batch=64))
    w1 = small.decode["time/decode/weights_read"][0]
    w64 = big.decode["time/decode/weights_read"][0]
    # batch 1 touches k = 2 of 8 experts; batch 64 touches 8·(1 − (6/8)^64) ≈ 8 of them
    assert w64 > 2 * w1


@settings(max_examples=30, deadline=None)
@given(b=st.integers(1, 256), tp=st.sampled_from([1, 2, 4, 8]))
def test_tpot_never_falls_when_batch_grows(b, tp):
    p = _problem()
    ev = evaluate_serving(p, ServeLayouts.build(tp=tp, batch=[b, b + 1, 2 * b]))
    assert np.all(np.diff(ev.tpot_s) >= -1e-15)
    assert np.all(np.diff(ev.tpot_decode_s) >= -1e-15)


@settings(max_examples=30, deadline=None)
@given(factor=st.floats(1.0, 5.0), b=st.integers(1, 512))
def test_more_hbm_bandwidth_never_slows_decode(factor, b):
    p = _problem()
    fast = replace(p, chip=p.chip.model_copy(update={"hbm_bw": p.chip.hbm_bw * factor}))
    lay = ServeLayouts.build(tp=8, batch=b)
    assert evaluate_serving(fast, lay).tpot_s[0] <= evaluate_serving(p, lay).tpot_s[0]


@settings(max_examples=30, deadline=None)
@given(n_in=st.integers(16, 32768), extra=st.integers(1, 32768))
def test_max_concurrency_never_rises_with_context(n_in, extra):
    short = evaluate_serving(_problem(input_len=n_in), ServeLayouts.build(tp=8))
    long = evaluate_serving(_problem(input_len=n_in + extra), ServeLayouts.build(tp=8))
    assert long.max_concurrency[0] <= short.max_concurrency[0]


@settings(max_examples=20, deadline=None)
@given(price=st.floats(0.01, 100.0), k=st.floats(0.1, 10.0))
def test_usd_per_mtok_is_linear_in_price(price, k):
    lay = ServeLayouts.build(tp=8, batch=32)
    a = evaluate_serving(replace(_problem(), usd_per_chip_s=price / 3600), lay)
    b = evaluate_serving(replace(_problem(), usd_per_chip_s=price * k / 3600), lay)
    assert b.usd_per_mtok_output[0] == pytest.approx(k * a.usd_per_mtok_output[0])
    assert b.usd_per_mtok_input[0] == pytest.approx(k * a.usd_per_mtok_input[0])


def test_offline_picks_the_batch_that_fills_memory_and_slo_constrains():
    offline = api.infer("llama-3.1-70b", chip="h100", n_chips=8)
    limit_s = offline.tpot_s / 2
    slo = api.infer("llama-3.1-70b", chip="h100", n_chips=8, tpot_s=limit_s)
    assert slo.tpot_s <= limit_s
    assert slo.output_tokens_per_s_per_chip <= offline.output_tokens_per_s_per_chip
    front = [p["tpot_s"] for p in offline.pareto]
    assert front == sorted(front) and len(front) >= 2


def test_disaggregated_decode_is_not_slowed_by_prefills():
    mixed = api.infer("llama-3.1-70b", chip="h100", n_chips=8, batch=64, tp=8)
    split = api.infer("llama-3.1-70b", chip="h100", n_chips=8, batch=64, tp=8,
                      disaggregated=True)
    assert split.tpot_s < mixed.tpot_s and split.ttft_s > mixed.ttft_s


def test_infer_json_keys(run_json):
    d = run_json("infer", "llama-3.1-70b", "--chip", "h100", "--chips", "8",
                 "--input-len", "2048", "--output-len", "256", "--batch", "32")
    for key in ("n_chips", "ttft_s", "tpot_s", "tpot_decode_s", "e2e_latency_s",
                "output_tokens_per_s", "output_tokens_per_s_per_chip", "max_concurrency",
                "usd_per_mtok_output", "usd_per_mtok_input", "layout", "breakdown_s"):
        assert key in d, key
    for old in ("chips", "ttft_ms", "tpot_ms", "tpot_decode_ms", "breakdown"):
        assert old not in d, old
    decode = sum(v for k, v in d["breakdown_s"].items() if k != "prefill")
    assert decode == pytest.approx(d["tpot_decode_s"], rel=1e-9)
    assert d["layout"]["batch"] == 32 and d["mode"] == "fixed_batch"


def test_plot_writes_html(tmp_path, run_cli):
    out = tmp_path / "front.html"
    code, _, err = run_cli("infer", "llama-3.1-8b", "--chip", "h100", "--chips", "1",
                           "--plot", str(out))
    assert code == 0, err
    assert out.stat().st_size > 10_000 and "plotly" in out.read_text()[:200_000].lower()


def test_model_too_big_says_what_is_missing_and_what_fits():
    with pytest.raises(SpecError) as err:
        api.infer("llama-3.1-405b", chip="h100", n_chips=2)
    message = str(err.value)
    assert "GB missing" in message and "chips would" in message


def test_unreachable_slo_states_best_reachable():
    with pytest.raises(InfeasibleError, match=r"best reachable: TTFT [\d.]+ ms, TPOT [\d.]+ ms"):
        api.infer("llama-3.1-70b", chip="h100", n_chips=8, ttft_s=1e-5, tpot_s=1e-5)


@pytest.mark.parametrize("kwargs,field", [
    (dict(weights="fp4"), "weights"), (dict(input_len=0), "input_len"),
    (dict(output_len=-5), "output_len"), (dict(batch=0), "batch"), (dict(kv="fp6"), "kv"),
])
def test_bad_serving_inputs(kwargs, field):
    with pytest.raises(SpecError) as err:
        api.infer("llama-3.1-8b", chip="h100", n_chips=1, **kwargs)
    assert field in str(err.value)


def test_compare_serve_default(run_json):
    d = run_json("compare", "--serve")
    models = {r["model"] for r in d["rows"]}
    assert models == {"llama-3.1-70b", "deepseek-v3"}
    ok = [r for r in d["rows"] if r["error"] is None]
    assert len(ok) >= 10 and all(r["output_tokens_per_s_per_chip"] > 0 for r in ok)


def test_interval_brackets_the_point_estimate():
    # The interval draws the fitted scales around the calibration, so its median must sit on
    # the point estimate (draws are centred on 1) and P10 < P50 < P90 for each headline.
    r = api.infer("llama-3.1-70b", chip="h100", n_chips=8, batch=16, interval=True)
    band = r.interval
    assert band["quantiles"] == [10, 50, 90]
    lo, mid, hi = band["tpot_s"]
    assert lo < mid < hi
    assert mid == pytest.approx(r.tpot_s, rel=0.05)
    t_lo, _, t_hi = band["output_tokens_per_s_per_chip"]
    assert t_lo < t_hi


@pytest.mark.parametrize("args,needle", [
    (("--tp", "3"), "layout = 'tp=3 pp=1 ep=1 batch=1': tp·pp must divide the chip count"),
    (("--chips", "8", "--ep", "2"), "ep must divide"),
    (("--plot", "/nonexistent-dir/front.html"), "plot = '/nonexistent-dir/front.html': cannot "
                                                "write the file"),
])
def test_infer_cli_names_the_broken_rule(run_cli, args, needle):
    # Llama 3.1 8B bf16 on one H100: 16.1 GB of weights leave room for 207 sequences of
    # 1024 + 1024 tokens (131 kB/token of KV) - a batch of 100,000 is the problem, not weights.
    code, out, err = run_cli("infer", "llama-3.1-8b", "--chip", "h100", *args)
    assert code == 2
    assert out == ""
    assert err.startswith("error: ") and needle in err and err.count("\n") == 1


def test_engines_admit_by_their_kv_rule_and_queue_the_rest(run_cli):
    # Llama 3.1 8B bf16: 32 layers x 2 x 8 KV heads x 128 x 2 B = 131,072 B of KV per token.
    # On one H100, 80 GB - 8 GB reserve - 16.06 GB weights - 0.12 GB workspace = 55.82 GB
    # free. TensorRT-LLM (GUARANTEED_NO_EVICT) reserves whole 1024 + 1024-token sequences:
    # 55.82e9 / (131,072 x 2048) = 207.96, so 207 of a batch of 100,000 run, the rest queue.
    r = api.infer("llama-3.1-8b", chip="h100", batch=100_000)
    assert r.admission == "reserved_full_sequence"
    assert r.max_concurrency == r.running_batch == 207
    assert r.running_batch_limit == "kv_capacity"
    # vLLM on ROCm pages blocks as tokens arrive: I + O/2 = 1536 tokens held per request. On
    # one MI300X, 192 GB - 19.2 GB - 16.06 GB - 0.12 GB = 156.62 GB free:
    # 156.62e9 / (131,072 x 1536) = 777.9 -> 777.
    a = api.infer("llama-3.1-8b", chip="mi300x", batch=100_000)
    hbm = hardware_catalog().chip("mi300x").hbm_bytes
    free = hbm - sum(a.memory_bytes[k] for k in ("reserved", "weights", "workspace"))
    assert a.admission == "paged_resident_tokens"
    assert a.max_concurrency == a.running_batch == int(free // (131_072 * 1536)) == 777
    # NxD Inference compiles one cache slot of I + O tokens per sequence: it refuses, naming
    # the stack and the rule.
    code, out, err = run_cli("infer", "llama-3.1-8b", "--chip", "trn2", "--chips", "1",
                             "--batch", "100000")
    assert code == 2 and out == ""
    assert "sequences of 2048 tokens (a full-sequence cache slot)" in err
    assert "NxD Inference" in err and err.count("\n") == 1


def test_engine_batch_cap_bounds_the_running_batch():
    # Llama 3.1 8B fp8 on one H200 at 128 + 128 tokens: 65,536 B/token of fp8 KV, so the
    # KV cache holds thousands of whole sequences, more than TensorRT-LLM's default
    # max_batch_size (data/stacks.toml): that cap sets the running batch.
    cap = stack_rules("nvidia", "serve").max_running_batch
    r = api.infer("llama-3.1-8b", chip="h200", batch=8192, input_len=128, output_len=128,
                  weights="fp8", kv="fp8")
    assert r.max_concurrency > cap and r.running_batch == cap
    assert r.running_batch_limit == "engine_max_batch"
    assert r.memory_bytes["kv_cache"] == pytest.approx(cap * 32 * 2 * 8 * 128 * 1.0 * 256)
    # A benchmark's own cap (trtllm-bench's 4096) replaces the default; the KV cache, not
    # the cap, then binds if it holds fewer.
    p, _ = api.serve_problem("llama-3.1-8b", chip="h200", input_len=128, output_len=128,
                             weights="fp8", kv="fp8")
    ev = evaluate_serving(replace(p, max_running_batch=4096), ServeLayouts.build(1, 1, 1, 8192))
    assert ev.running_batch[0] == min(4096, ev.max_concurrency[0])
    assert ev.batch_limit[0] == ("engine_max_batch" if ev.max_concurrency[0] > 4096
                                 else "kv_capacity")


def test_issue_11_long_output_batch_runs_on_8_h100():
    # Issue #11: 1024 requests of 128 + 8192 tokens, fp8 weights and KV. Whole sequences would
    # need 1024 x 8320 tokens x 20.5 kB/token/chip = 175 GB per chip, more than an H100
    # holds, so TensorRT-LLM reserves whole sequences for what fits (max concurrency by I + O)
    # and queues the rest.
    r = api.infer("llama-3.1-70b", chip="h100", n_chips=8, batch=1024, input_len=128, output_len=8192,
                  weights="fp8", tp=8)
    kv_per_token_chip = 80 * 2 * 8 * 128 * 1.0 / 8  # L·2·K·H·1 B / tp
    assert r.memory_bytes["kv_cache"] == pytest.approx(
        r.running_batch * kv_per_token_chip * (128 + 8192), rel=1e-6)
    assert r.running_batch == r.max_concurrency < 1024


def test_weight_only_fp4_reads_fp4_bytes_and_computes_at_the_activation_rate():
    # MXFP4 weights with bf16 activations (GPT-OSS on Hopper): the weights read per decode
    # step shrink to fp4's 0.5625 B/param, the GEMMs run at H100's bf16 rate, and the chip's
    # lack of an FP4 rate is no longer an error.
    w4a16, _ = api.serve_problem("llama-3.1-70b", chip="h100", n_chips=8, weights="fp4", activations="bf16")
    w16, _ = api.serve_problem("llama-3.1-70b", chip="h100", n_chips=8)
    assert (w4a16.weights.value, w4a16.compute.value) == ("fp4", "bf16")
    one = ServeLayouts.build(tp=8, batch=1)
    light, full = evaluate_serving(w4a16, one), evaluate_serving(w16, one)
    # Decode reads every weight but the embedding: 70.55B - 1.05B = 69.5B params, of which the
    # 1.05B head stays bf16 in a quantized checkpoint. fp4: 68.45B x 0.5625 B + 1.05B x 2 B =
    # 40.6 GB; bf16: 69.5B x 2 B = 139.0 GB; ratio 0.292.
    read = "time/decode/weights_read"
    assert light.decode[read][0] / full.decode[read][0] == pytest.approx(0.292, rel=0.01)
    assert light.prefill_s[0] == pytest.approx(full.prefill_s[0], rel=0.05)  # same bf16 GEMMs
    r = api.infer("llama-3.1-70b", chip="h100", n_chips=8, weights="fp4", activations="bf16", batch=8)
    assert (r.weights, r.activations) == ("fp4", "bf16")


@pytest.mark.parametrize("kwargs,needle", [
    (dict(weights="fp4"), "for weight-only fp4, add activations bf16, fp8, int8"),
    (dict(weights="bf16", activations="fp8"), "narrower than the bf16 weights; allowed: bf16"),
    (dict(weights="fp8", activations="fp4"), "activations = 'fp4': H100 SXM5 80GB has no "
                                             "native fp4"),
])
def test_activation_precision_errors(kwargs, needle):
    with pytest.raises(SpecError) as err:
        api.serve_problem("llama-3.1-70b", chip="h100", n_chips=8, **kwargs)
    assert needle in str(err.value)


def test_old_result_names_warn_and_return_the_old_units():
    r = api.infer("llama-3.1-8b", chip="h100", n_chips=1, batch=4)
    old = {"chips": r.n_chips, "ttft_ms": r.ttft_s * 1e3, "tpot_ms": r.tpot_s * 1e3,
           "tpot_decode_ms": r.tpot_decode_s * 1e3}
    for name, value in old.items():
        with pytest.warns(DeprecationWarning, match=name):
            assert getattr(r, name) == value
    with pytest.warns(DeprecationWarning, match="breakdown_s"):
        breakdown = r.breakdown
    assert breakdown == {f"{k}_ms": v * 1e3 for k, v in r.breakdown_s.items()}
    assert "prefill_ms" in breakdown and api.InferResult is api.ServeResult


def test_old_positional_call_warns_and_gives_the_same_result():
    new = api.infer("llama-3.1-8b", chip="h100", n_chips=1, batch=4, weights="fp8")
    with pytest.warns(DeprecationWarning, match="positional"):
        old = api.infer("llama-3.1-8b", "h100", 1, 1024, 1024, 4, weights="fp8")
    with pytest.warns(DeprecationWarning, match="'chips' \\(now 'n_chips'\\)"):
        renamed = api.infer("llama-3.1-8b", chip="h100", chips=1, batch=4, weights="fp8")
    assert old.to_dict() == new.to_dict() == renamed.to_dict()
    with pytest.raises(TypeError, match="both 'chips' and 'n_chips'"):
        api.infer("llama-3.1-8b", chip="h100", chips=1, n_chips=1)


@pytest.mark.parametrize("tpot_limit_s", [0.030, 0.045])
def test_slo_search_finds_the_largest_batch_meeting_the_limit(tpot_limit_s):
    # under a TPOT limit the search bisects each layout's batch: the winner's batch meets
    # the limit and one more sequence does not (powers of two alone would stop at 2^k)
    from xpuplan.serve.search import search_serving

    p = _problem()
    found = search_serving(p, {"tp": 8, "pp": 1, "ep": 1}, tpot_s=tpot_limit_s)
    ev = found.evaluated
    b = int(ev.layouts.batch[found.best])
    nxt = evaluate_serving(p, ServeLayouts.build(8, 1, 1, b + 1))
    assert ev.tpot_s[found.best] <= tpot_limit_s < float(nxt.tpot_s[0])
