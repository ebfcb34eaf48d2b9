"""Run the fuzz suite (tests/fuzz) for N minutes with fresh random seeds; report the cases run.

    python scripts/fuzz.py --minutes 10 [--examples 200] [-k scenario]

Each round runs every fuzz test with the `long` Hypothesis profile (random, not the CI's
derandomized one) and XPUPLAN_FUZZ_EXAMPLES examples each; rounds repeat until the time is up.
A failing case stops the run with Hypothesis' minimal example and its reproduction blob, and
the exit code is pytest's. The CI runs the same tests, bounded (`ci` profile).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--examples", type=int, default=200, help="examples per test a round")
    parser.add_argument("-k", default="", help="pytest -k expression to pick tests")
    args = parser.parse_args()
    os.environ["XPUPLAN_FUZZ_PROFILE"] = "long"
    os.environ["XPUPLAN_FUZZ_EXAMPLES"] = str(args.examples)
    sys.path[:0] = [str(ROOT / "src"), str(ROOT / "tests" / "fuzz")]
    import harness
    import pytest

    end = time.monotonic() + 60 * args.minutes
    rounds, code = 0, 0
    while time.monotonic() < end and code == 0:
        rounds += 1
        argv = [str(ROOT / "tests" / "fuzz"), "-q", "-x", "-p", "no:cacheprovider",
                "-p", "no:warnings"]
        code = int(pytest.main(argv + (["-k", args.k] if args.k else [])))
        print(f"round {rounds}: {harness.COUNT['cases']:,} cases so far "
              f"({harness.COUNT['errors']:,} ended in a one-line error)", flush=True)
    print(f"fuzz: {harness.COUNT['cases']:,} cases in {rounds} rounds, "
          f"{'no promise broken' if code == 0 else 'a promise was broken (see above)'}")
    return code


if __name__ == "__main__":
    sys.exit(main())
