"""Training: step time, memory and MFU for arrays of layouts, then the search over them.

Read in this order (xpuplan train -> api/training.py -> here):
  memory.py    memory per chip by part (Korthikanti et al. 2022)
  step.py      step time by part, one quantity function each (GEMMs, attention, memory-bound
               ops, exposed TP/CP/EP/PP/DP communication, bubble, optimizer), summed
  evaluate.py  TrainProblem, legality (TrainReason), memory + step time -> tokens/s and MFU
  search.py    every legal layout on N chips, evaluated at once, ranked
  result.py    one layout's prediction broken down and explained (TrainResult)
May import: hardware, workload, catalog, specs, errors, units.
"""
