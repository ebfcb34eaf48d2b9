"""Types only: what a chip, an instance, a model, a precision and a layout are.

Frozen pydantic models and numpy layout arrays in SI units; no file I/O and no maths beyond
validation. Read in this order:
  precision.py  number formats, bytes per element, which peak each runs at
  bounds.py     every user number finite and within a stated range (data/bounds.toml)
  hardware.py   ChipSpec (silicon and its scale-up domain), InstanceSpec (what prices it)
  system.py     SystemSpec: chips joined into a scale-up domain and a scale-out fabric
  model.py      ModelSpec: the exact shape of a dense or MoE decoder
  layouts.py    Layouts (training) and ServeLayouts (serving): arrays of parallel configs
  reasons.py    Reason: why a configuration is rejected, one enum per evaluator
  samples.py    Samples: the named sample axis (layouts on axis 0, samples on axis 1)
May import: xpuplan.errors, xpuplan.units.
"""
