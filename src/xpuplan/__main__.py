"""`python -m xpuplan` runs the CLI."""

from xpuplan.cli import main

main()
