"""Money and fleets: what a run costs, and multi-year plans over contracts, power and vendors.

Read in this order:
  run_cost.py  time, chip-hours, dollars and energy of a training run
  refs.py      scenario values read from economics records ({ref: SECTION:ID.FIELD})
  scenario.py  planning scenarios as YAML, validated by pydantic, one model per kind
  context.py   what a plan needs from the models, passed in (plans never import train/serve)
  fleets.py    contracts and power budgets
  mix.py       least-cost vendor mix (MILP in highspy)
  deals.py     investment-for-compute, owned versus bought, spend forecasts
  run.py       dispatch a scenario to its model; PlanResult
May import: catalog, specs, errors, units.
"""
