"""Serving: prefill, decode, KV capacity, latency and throughput for arrays of layouts.

Read in this order (xpuplan infer -> api/serving.py -> here):
  problem.py   ServeProblem: everything fixed across the layouts compared
  moe.py       MoE kernel costs: grouped-GEMM tile padding, routing permutation traffic
  evaluate.py  KV capacity, prefill and decode rooflines, continuous batching (ServeReason)
  search.py    every (tp, pp, ep, batch) under the SLOs; the Pareto front
  result.py    one layout's prediction broken down (ServeResult)
May import: hardware, workload, catalog, specs, errors, units.
"""
