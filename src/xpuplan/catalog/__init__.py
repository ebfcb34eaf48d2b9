"""Data files to validated specs: the one path every record takes (unit keys to SI, source
required, user files on top of the shipped ones).

Read in this order:
  files.py         read input files safely (regular, bounded, UTF-8, finite numbers)
  records.py       read TOML/YAML records; `hbm_tb_per_s` -> hbm_bw in byte/s; reject a
                   figure without a source
  data.py          the one path for shipped data files: each read once, [source_refs]
                   shorthands resolved, records validated as pydantic models
  measurements.py  efficiency.toml (MAMF, STREAM, collectives) and stacks.toml records
  calibration.py   calibration.toml / calibration_infer.toml (fitted groups, coverage)
  hardware.py      chip and instance records (shipped + --catalog)
  registry.py      the hardware catalog as ChipSpec/InstanceSpec, by id or alias
  models.py        built-in models (models.toml + Hugging Face config.json files)
  hf_keys.py       the raw config.json keys each model family needs, checked first
  hf_config.py     ModelSpec from a config.json through transformers' config classes
  model_loader.py  a model from a built-in name, a local file or a Hub id
  economics.py     owned systems, facilities, deals
May import: specs, errors, units.
"""
