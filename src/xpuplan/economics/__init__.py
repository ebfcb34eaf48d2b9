"""Money and fleets: what a run costs, and multi-year plans over contracts, power and vendors.

Read in this order:
  run_cost.py  time, chip-hours, dollars and energy of a training run
  refs.py      scenario values read from economics records ({ref: SECTION:ID.FIELD})
  scenario.py  planning scenarios as YAML, validated by pydantic, one model per kind
  context.py   what a plan needs from the models, passed in (plans never import train/serve)
  fleets.py    contracts and power budgets
  mix.py       least-cost vendor mix (MILP in highspy)
  mix_result.py  the vendor-mix answer: yearly table, NPV, payback, break-even
  owned.py     owned cost of one chip (capex, power, facility), per chip-year and chip-hour
  deals.py     owned versus bought (TCO), spend forecasts
  investment.py  investment-for-compute deals and announced deals as a spend timeline
  run.py       dispatch a scenario to its model; PlanResult
  solve.py     goal-seek: the input value at which an output meets a target
  summary.py   the KPIs of each kind and every input with its source
  templates.py commented scenario skeletons generated from the scenario models
May import: catalog, specs, errors, units.
"""
