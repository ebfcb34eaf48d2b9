"""What people read: rich tables, plotly charts and the HTML plan report, built from API results.

No number is computed here. Read in this order:
  strict_json.py   strict JSON for --json (no NaN or Infinity)
  terminal.py      rich tables for the CLI
  charts.py        plotly figures from result objects
  plan_tables.py   a plan as named tables (terminal, HTML, CSV, XLSX)
  plan_report.py   the self-contained HTML plan report
  plan_png.py      PNG charts of a plan (matplotlib Agg)
  audit_report.py  the audit as tables and an HTML page
  output_file.py   write --report / --plot files without destroying an input
May import: xpuplan.api, errors, units (import-linter contract in pyproject.toml).
"""
