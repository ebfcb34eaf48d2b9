"""The web app (`xpuplan ui`): a JSON API whose answers are the CLI's `--json` objects, and
server-rendered pages with Plotly charts of the same numbers.

Files in reading order: `schemas` (request models: the CLI's long options, bounded),
`runner` (settings, worker pool with a time limit, body-size limit, JSON and error
responses), `service` (one function per command: request in, `--json` dict out), `figures`
(Plotly figures from result dicts), `routes_api` (/api/*), `routes_pages` (the pages),
`app` (`create_app`). Imports only `xpuplan.api` and `xpuplan.errors` from xpuplan.
"""

from xpuplan.web.app import create_app

__all__ = ["create_app"]
