"""The pages: a form whose inputs are in the query string (so the URL reproduces the page),
the API's answer as tables, and Plotly charts of it.

A form with an uploaded config.json is POSTed (multipart) instead; that page has no
shareable URL. Bad input shows its one-line message above the form (status 422).
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates
from pydantic import AliasChoices, ValidationError

from xpuplan import api
from xpuplan.errors import SpecError, XpuplanError
from xpuplan.views.plan_report import plan_html
from xpuplan.web import figures, service
from xpuplan.web.runner import CliJSON, WorkTimeout, run_limited
from xpuplan.web.schemas import (
    MAX_COMPARE_CHIPS,
    CompareRequest,
    InferRequest,
    PlanRequest,
    SearchRequest,
    TrainRequest,
)

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
PAGES = ("compare", "train", "serve", "plan", "accuracy", "catalog")


def _num(value) -> str:
    """A number for a table: 4 significant digits, thousands separators past 10^4."""
    if not isinstance(value, (int, float)) or isinstance(value, bool):
        return "-" if value is None else str(value)
    if abs(value) >= 1e15:
        return f"{value:.3e}"
    return f"{value:,.0f}" if abs(value) >= 1e4 else f"{value:.4g}"


templates.env.filters["num"] = _num


async def _inputs(request: Request) -> tuple[dict, dict | None]:
    """The form's values (query string, or a multipart POST) and an uploaded config.json."""
    if request.method != "POST":
        return {k: v for k, v in request.query_params.items() if v != ""}, None
    form = await request.form(max_files=1, max_fields=100)
    values = {k: v for k, v in form.items() if isinstance(v, str) and v != ""}
    upload = form.get("config_file")
    if upload is None or isinstance(upload, str) or not upload.filename:
        return values, None
    try:
        config = json.loads(await upload.read())
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise SpecError("config_file", upload.filename, f"not valid JSON ({exc})") from None
    values.setdefault("model", Path(upload.filename).stem)
    return values, config


def _keys(model_cls) -> set[str]:
    """The form keys a request model reads: its field names and their aliases (`chips`)."""
    keys = set(model_cls.model_fields)
    for f in model_cls.model_fields.values():
        if isinstance(f.validation_alias, AliasChoices):
            keys |= {a for a in f.validation_alias.choices if isinstance(a, str)}
    return keys


def _request(model_cls, values: dict, config: dict | None = None, **extra):
    """Validate form values with the API's request model; the first problem as a SpecError."""
    data = {k: values[k] for k in _keys(model_cls) if k in values and k != "config"}
    data.update(extra)
    if config is not None:
        data["config"] = config
    try:
        return model_cls.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(p) for p in err["loc"])
        raise SpecError(field, err.get("input"), err["msg"]) from None


def _page(request: Request, name: str, context: dict, status: int = 200) -> HTMLResponse:
    context.setdefault("error", None)
    return templates.TemplateResponse(request, f"{name}.html", {
        "page": name, "pages": PAGES, "query": urlencode(dict(request.query_params)),
        **context}, status_code=status)


def _engine_choices(by_vendor: dict[str, dict]) -> dict:
    """The engine select's options: every vendor's engines once, each labelled with the
    vendors that have it, and the blank choice's label naming each vendor's default."""
    labels: dict[str, list[str]] = {}
    for vendor, e in by_vendor.items():
        for name in e["engines"]:
            labels.setdefault(name, []).append(vendor)
    return {"options": list(labels), "labels": {n: f"{n} ({', '.join(v)})"
                                                for n, v in labels.items()},
            "blank": "default for the chip (" + ", ".join(
                f"{v}: {e['default']}" for v, e in by_vendor.items()) + ")"}


async def _render(request: Request, name: str, compute, defaults: dict,
                  always: bool = False, time_limit_s: float | None = None) -> HTMLResponse:
    """Run `compute(settings, values, config)` in the pool when inputs are given (`always`:
    also without); errors inline."""
    settings = request.app.state.settings
    context: dict[str, object] = {
        "chips": [c.id for c in api.chips(catalog_files=settings.catalog_files)],
        "models": [e.id for e in api.models()],
        "engines": _engine_choices(api.engines(catalog_files=settings.catalog_files))}
    try:
        values, config = await _inputs(request)
        context["form"] = {**defaults, **values}
        context["uploaded"] = config is not None
        if values or always:
            context.update(await run_limited(settings, compute, settings, values, config,
                                             time_limit_s=time_limit_s))
    except (XpuplanError, WorkTimeout) as exc:
        message = str(exc) if isinstance(exc, XpuplanError) else (
            f"the request took longer than the server's limit of {exc.args[0]:g} s")
        return _page(request, name, {**context, "error": message}, status=422)
    return _page(request, name, context)


@router.get("/")
async def index() -> RedirectResponse:
    """Redirect to the compare page."""
    return RedirectResponse("/compare")


def _compare(settings, values: dict, config) -> dict:
    r = _request(CompareRequest, values, config, serve=values.get("tab") == "serve")
    result = service.compare(settings, r)
    figs = figures.compare_serve(result) if r.serve else figures.compare_train(result)
    return {"result": result, "figures": figs}


@router.api_route("/compare", methods=["GET", "POST"])
async def compare(request: Request) -> HTMLResponse:
    """The compare page: training or serving across chips."""
    defaults = {"model": api.DEFAULT_COMPARE_MODEL, "chip": ",".join(api.DEFAULT_COMPARE_CHIPS),
                "chips": api.DEFAULT_COMPARE_CHIP_COUNT, "tokens": "15T", "tab": "train",
                "input_len": 1024, "output_len": 1024}
    return await _render(request, "compare", _compare, defaults)


def _train(settings, values: dict, config) -> dict:
    r = _request(TrainRequest, values, config)
    result = service.train(settings, r)
    top = service.search(settings, _request(SearchRequest, values, config))
    return {"result": result, "search": top, "figures": figures.train(result)}


@router.api_route("/train", methods=["GET", "POST"])
async def train(request: Request) -> HTMLResponse:
    """The train page: one prediction and the top layouts."""
    defaults = {"model": "llama-3.1-8b", "chip": "h100-sxm", "chips": 8, "top": 5}
    return await _render(request, "train", _train, defaults)


def _serve(settings, values: dict, config) -> dict:
    chip_text = values.get("chip", "")
    names = [c.strip() for c in chip_text.split(",") if c.strip()]
    if not names or len(names) > MAX_COMPARE_CHIPS:
        raise SpecError("chip", chip_text, f"give 1 to {MAX_COMPARE_CHIPS} comma-separated chips")
    results, errors = {}, {}
    for name in names:
        r = _request(InferRequest, {**values, "chip": name}, config)
        try:
            results[name] = service.infer(settings, r)
        except XpuplanError as exc:
            if len(names) == 1:
                raise
            errors[name] = str(exc)
    return {"results": results, "errors": errors,
            "figures": figures.pareto(results) if results else []}


@router.api_route("/serve", methods=["GET", "POST"])
async def serve(request: Request) -> HTMLResponse:
    """The serve page: a prediction and Pareto front per chip."""
    defaults = {"model": "llama-3.1-8b", "chip": "h100-sxm,h200", "input_len": 1024,
                "output_len": 1024, "weights": "bf16"}
    return await _render(request, "serve", _serve, defaults)


def _plan_request(values: dict) -> PlanRequest:
    if values.get("scenario"):
        return _request(PlanRequest, {"scenario": values["scenario"]})
    return _request(PlanRequest, {"example": values.get("example")})


def _plan(settings, values: dict, config) -> dict:
    result = service.plan_result(settings, _plan_request(values))
    scenario = values.get("scenario") or api.plan_example_text(values["example"])
    return {"result": result.to_dict(), "figures": figures.plan(result),
            "scenario_text": scenario, "kpis": _kpis(result.outputs)}


def _kpis(outputs: dict) -> dict:
    """The plan's top-level numeric outputs (its headline figures)."""
    return {k: v for k, v in outputs.items()
            if isinstance(v, (int, float)) and not isinstance(v, bool)}


@router.get("/plan")
async def plan(request: Request) -> HTMLResponse:
    """The plan page: a built-in example or a pasted scenario."""
    examples = api.plan_examples()
    return await _render(request, "plan", _plan, {"examples": examples,
                                                   "example": next(iter(examples))})


@router.get("/plan/report.{fmt}")
async def plan_download(request: Request, fmt: str) -> Response:
    """The plan of the query string as the HTML report, a CSV of its outputs, or its JSON."""
    settings = request.app.state.settings
    if fmt not in ("html", "csv", "json"):
        return PlainTextResponse("format: allowed html, csv, json", status_code=404)
    values, _ = await _inputs(request)
    result = await run_limited(settings, service.plan_result, settings, _plan_request(values))
    name = f"xpuplan-{result.name}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "json":
        return CliJSON(result.to_dict(), headers=headers)
    if fmt == "html":
        return HTMLResponse(plan_html(result), headers=headers)
    return Response(_csv(result.to_dict()), media_type="text/csv", headers=headers)


def _csv(plan: dict) -> str:
    """Every output of a plan as `section,key,value` rows (nested keys joined by dots)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["section", "key", "value"])
    for section in ("outputs", "interval"):
        for key, value in _flat(plan[section]):
            writer.writerow([section, key, value])
    return out.getvalue()


def _flat(data, prefix: str = ""):
    if isinstance(data, dict):
        for k, v in data.items():
            yield from _flat(v, f"{prefix}{k}.")
    elif isinstance(data, list) and any(isinstance(v, (dict, list)) for v in data):
        for i, v in enumerate(data):
            yield from _flat(v, f"{prefix}{i}.")
    else:
        yield prefix.rstrip("."), json.dumps(data, default=str) if isinstance(data, list) \
            else data


def _accuracy(settings, values: dict, config) -> dict:
    kind = values.get("kind") or None
    if kind not in (None, "train", "infer"):
        raise SpecError("kind", kind, "allowed: train, infer (blank: both)")
    report = service.validate()
    vendors = {k: v for k, v in report["by_vendor"].items() if kind in (None, k.split("/")[0])}
    return {"report": report, "vendors": vendors, "figures": figures.accuracy(report, kind)}


@router.get("/accuracy")
async def accuracy(request: Request) -> HTMLResponse:
    """The accuracy page: errors against the measurements by vendor."""
    return await _render(request, "accuracy", _accuracy, {"kind": ""}, always=True,
                         time_limit_s=service.VALIDATE_TIME_LIMIT_S)


def _catalog(settings, values: dict, config) -> dict:
    q = values.get("q", "").strip().lower()
    if len(q) > 100:
        raise SpecError("q", q[:20] + "...", "at most 100 characters")

    def hit(item: dict) -> bool:
        return not q or q in json.dumps(item, default=str).lower()

    files = settings.catalog_files
    chips = [c for c in api.chips_json(catalog_files=files)["chips"] if hit(c)]
    return {"chip_rows": chips,
            "instance_rows": [i for i in api.instances_json(catalog_files=files)["instances"]
                              if hit(i)],
            "model_rows": [m for m in api.models_json()["models"] if hit(m)],
            "figures": figures.chips(chips)}


@router.get("/catalog")
async def catalog(request: Request) -> HTMLResponse:
    """The catalog page: chips, instances and models matching a query."""
    return await _render(request, "catalog", _catalog, {"q": ""}, always=True)
