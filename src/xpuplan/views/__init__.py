"""What people read: rich tables, plotly charts and the HTML plan report, built from API results.

No number is computed here. Files: terminal.py (tables), charts.py (figures), plan_report.py
(self-contained HTML).
May import: xpuplan.api, errors, units (import-linter contract in pyproject.toml).
"""
