"""Published runs as problems, the few fitted stack parameters, and `xpuplan validate`.

Read in this order:
  train_set.py   published training runs (data/validation) as TrainProblems with targets
  calibrate.py   fit the training stack parameters; leave-one-source-out refits
  infer_set.py   published serving runs as ServeProblems with targets
  serve_grid.py  the serving calibration grid
  report.py      every usable run predicted, in-sample and leave-one-source-out (ValidationReport)
  confidence.py  how far to trust one prediction: its group's rows, sources and LOSO error
May import: train, serve, hardware, workload, catalog, specs, errors, units.
"""
