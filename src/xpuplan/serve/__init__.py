"""Serving: prefill, decode, KV capacity, latency and throughput for arrays of layouts.

Read in this order (xpuplan infer -> api/serving.py -> here):
  problem.py   ServeProblem: everything fixed across the layouts compared
  memory.py    weights, KV cache per token, workspace, KV admission and max concurrency
  static.py    static shapes (JetStream, Neuron): compiled batch, a KV cache read whole
  host.py      eager kernel launches a decode step can wait for (no CUDA/HIP graphs)
  step.py      rates; decode step by part, prefill, continuous batching, $/Mtok
  evaluate.py  the assembly: memory + step -> every metric per layout (ServeReason, ServeEval)
  moe.py       MoE kernel costs: grouped-GEMM tile padding, routing permutation traffic,
               Neuron's selective-loading / all-experts / blockwise dispatch
  search.py    every (tp, pp, ep, batch) under the SLOs; the Pareto front
  result.py    one layout's prediction broken down (ServeResult)
May import: hardware, workload, catalog, specs, errors, units.
"""
