"""Training: step time, memory and MFU for arrays of layouts, then the search over them.

Read in this order (xpuplan train -> api/training.py -> here):
  memory.py      memory per chip by part (Korthikanti et al. 2022)
  microbatch.py  one micro-batch's sizes on the busiest stage and its recomputed share
  comms.py       exposed communication by part: TP (over chips and among one chip's cores),
                 CP, EP, PP, ZeRO-3 and the data-parallel gradient sync
  step.py        step time by part, one quantity function each (GEMMs, attention, memory-bound
                 ops, bubble, optimizer) with comms.py's parts, summed
  evaluate.py    TrainProblem, legality (TrainReason), memory + step time -> tokens/s and MFU
  search.py      every legal layout on N chips, evaluated at once, ranked
  result.py      one layout's prediction broken down and explained (TrainResult)
May import: hardware, workload, catalog, specs, errors, units.
"""
