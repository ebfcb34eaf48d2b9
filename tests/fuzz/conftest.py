"""Report how many CLI cases the fuzz suite ran (harness.COUNT) at the end of a pytest run."""

from __future__ import annotations

import sys


def pytest_terminal_summary(terminalreporter):
    harness = sys.modules.get("harness")
    if harness is not None and harness.COUNT["cases"]:
        terminalreporter.write_line(
            f"fuzz: {harness.COUNT['cases']:,} CLI cases, {harness.COUNT['errors']:,} ended in "
            "a one-line error, every promise kept unless reported above")
