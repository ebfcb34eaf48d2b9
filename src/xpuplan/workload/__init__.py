"""What a model costs per token, independent of hardware: parameters, FLOPs, bytes.

Read in this order:
  params.py   parameter counts by part
  flops.py    model FLOPs per token: the one FLOP definition every MFU uses
  heads.py    how a TP group splits attention heads: padding and KV replication per rank
  layer.py    per-layer GEMM widths and bytes (LayerShape), averaged over dense and MoE layers
  remat.py    the share of a layer's forward a MaxText remat policy recomputes
  summary.py  the per-model figures `xpuplan model` shows
May import: specs, errors, units.
"""
