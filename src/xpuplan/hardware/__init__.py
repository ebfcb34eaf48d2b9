"""How long an op takes on a chip: measured efficiencies, the roofline, collectives.

Read in this order:
  efficiency.py   achievable fractions of peak (efficiency.toml, measured) and the fitted
                  stack parameters (calibration*.toml), looked up per chip and precision
  collectives.py  alpha-beta collective times over a group's real path (T_comms)
  stacks.py       software-stack rules per vendor and workload (data/stacks.toml): head
                  sharding, ranks per chip, TP overlap, admission, engine batch caps
  roofline.py     a chip's rates at one precision: T_math = FLOP / (P·η·φ), T_mem = bytes /
                  (B_hbm·η_hbm), and its network tiers
May import: catalog, specs, errors, units.
"""
