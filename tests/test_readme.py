"""The README's examples run as written (docs examples are tested, STYLE.md)."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_example_runs():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert blocks
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102
    assert namespace["r"].mfu > 0 and namespace["s"].tpot_s <= 50e-3
    assert namespace["p"].outputs["n_chips"] > 0


def test_readme_catalog_example_loads(tmp_path):
    from xpuplan.catalog.registry import hardware_catalog

    yaml_block = re.findall(r"```yaml\n(.*?)```", README.read_text(), flags=re.S)[0]
    path = tmp_path / "my.yaml"
    path.write_text(yaml_block)
    cat = hardware_catalog([str(path)])
    assert cat.chip("my-asic").hbm_bytes == 64e9
    assert cat.chip("h100-nvl32").scaleup_domain_chips == 32
