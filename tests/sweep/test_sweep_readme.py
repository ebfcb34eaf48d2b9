"""The README's sweep example runs as written and its summary table is what it prints."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

from xpuplan import sweep
from xpuplan.sweep.spec import spec_from_dict

README = Path(__file__).resolve().parents[2] / "README.md"


def test_readme_sweep_example_and_its_summary(tmp_path):
    text = README.read_text()
    section = text[text.index("## Sweeps"):]
    spec_text = re.findall(r"```yaml\n(.*?)```", section, flags=re.S)[0]
    spec = spec_from_dict(yaml.safe_load(spec_text))
    stated = int(re.search(r"= (\d+) cells", spec_text).group(1))
    assert spec.n_cells() == stated
    sweep.run_sweep(spec, tmp_path / "results.parquet", workers=1)
    s = sweep.summarize(tmp_path / "results.parquet")
    table = re.findall(r"│ (\S+) +│ (cost|time) +│ (\S+) +│ (\d+) +│.*│ (\d+) +│", section)
    assert table, "the README shows the summary table"
    shown = {(m, by): (chip, int(chips), int(cell)) for m, by, chip, chips, cell in table}
    printed = {(b["model"], "cost" if b["by"] == s.cost_key else "time"):
               (b["chip"], b["n_chips"], b["cell_index"]) for b in s.best}
    assert printed == shown


def test_readme_plan_vary_example_is_a_valid_spec():
    section = README.read_text()[README.read_text().index("## Sweeps"):]
    vary = re.search(r"`vary: (\{.*?\})`", section, flags=re.S).group(1)
    spec = spec_from_dict({"kind": "plan", "scenario": "trainium-shift",
                           "vary": yaml.safe_load(vary)})
    assert spec.n_cells() == 9
