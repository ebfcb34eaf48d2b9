"""The FastAPI application: JSON API under /api, pages, and every asset served locally.

`create_app(...)` builds one stateless app (no sessions, no stored results), so
`uvicorn --workers N` or any ASGI server scales it out. The plotly.js bundle is the one the
`plotly` package ships; the /docs page uses the Swagger UI 5 files of `swagger-ui-bundle-v2`.
"""

from __future__ import annotations

import threading
from importlib import resources
from pathlib import Path

import plotly
import swagger_ui_bundle
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from xpuplan import __version__, api
from xpuplan.errors import XpuplanError
from xpuplan.web import routes_api, routes_pages, service
from xpuplan.web.runner import BodyLimit, Settings, WorkTimeout, error_response

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"
STATIC = Path(str(resources.files("xpuplan.web") / "static"))


def create_app(allow_paths: bool = False, catalog_files: list[str] | None = None,
               workers: int = 2, time_limit_s: float = 60.0,
               max_body_bytes: int = 1_000_000, prefetch_validation: bool = False) -> FastAPI:
    """The xpuplan web app; see `Settings` for what each option does. `prefetch_validation`
    computes the validation report in a background thread at once (the Accuracy page and
    /api/validate then answer without the ~10 s wait)."""
    app = FastAPI(title="xpuplan", version=__version__, docs_url=None, redoc_url=None,
                  description="Every answer is the matching CLI command's --json object.")
    app.state.settings = Settings(allow_paths, catalog_files, workers, time_limit_s,
                                  max_body_bytes)
    # Load one model and the catalog now, in this thread: transformers' lazy imports are not
    # safe to race from the worker threads, and the first request need not pay for them.
    api.load_model(api.DEFAULT_COMPARE_MODEL)
    api.chips(catalog_files=catalog_files)
    if prefetch_validation:
        threading.Thread(target=service.validate, daemon=True).start()
    app.add_middleware(BodyLimit, max_bytes=max_body_bytes)
    for kind in (XpuplanError, WorkTimeout, Exception):
        app.add_exception_handler(kind, _handle)
    app.add_exception_handler(RequestValidationError, _invalid)
    app.include_router(routes_api.router)
    app.include_router(routes_pages.router)

    @app.get("/static/plotly.min.js", include_in_schema=False)
    async def plotly_js():
        return FileResponse(PLOTLY_JS, media_type="text/javascript")

    @app.get("/docs", include_in_schema=False)
    async def docs():
        return get_swagger_ui_html(openapi_url="/openapi.json", title="xpuplan API",
                                   swagger_js_url="/static/swagger/swagger-ui-bundle.js",
                                   swagger_css_url="/static/swagger/swagger-ui.css",
                                   swagger_favicon_url="/static/swagger/favicon-32x32.png")

    # mounted last: routes match in order, and /static would shadow the two above
    app.mount("/static/swagger", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path),
              name="swagger")
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app


async def _handle(request: Request, exc: Exception):
    return error_response(exc)


async def _invalid(request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 list, plus `detail_text`: the first problem in one line naming the field."""
    assert isinstance(exc, RequestValidationError)  # the one class it is registered for
    errors = exc.errors()
    first = errors[0] if errors else {"loc": (), "msg": "invalid request"}
    field = ".".join(str(p) for p in first["loc"] if p != "body")
    return JSONResponse({"detail": jsonable_encoder(errors),
                         "detail_text": f"{field}: {first['msg']}" if field else first["msg"]},
                        status_code=422)
