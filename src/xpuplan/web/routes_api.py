"""The JSON API: one endpoint per command; each answer is exactly the command's `--json`."""

from __future__ import annotations

from fastapi import APIRouter, Path, Query, Request

from xpuplan import api
from xpuplan.web import service
from xpuplan.web.runner import CliJSON, run_limited
from xpuplan.web.schemas import (
    MAX_NAME_LEN,
    MAX_SEQ_LEN,
    CompareRequest,
    InferRequest,
    PlanRequest,
    SearchRequest,
    TrainRequest,
)

router = APIRouter(prefix="/api", default_response_class=CliJSON, tags=["api"])


async def _answer(request: Request, fn, *args, time_limit_s: float | None = None) -> CliJSON:
    settings = request.app.state.settings
    return CliJSON(await run_limited(settings, fn, *args, time_limit_s=time_limit_s))


@router.get("/chips", summary="xpuplan chips --json")
async def chips(request: Request) -> CliJSON:
    """Every chip of the catalog, as `xpuplan chips --json`."""
    files = request.app.state.settings.catalog_files
    return await _answer(request, lambda: api.chips_json(catalog_files=files))


@router.get("/instances", summary="xpuplan instances --json")
async def instances(request: Request) -> CliJSON:
    """Every instance type, as `xpuplan instances --json`."""
    files = request.app.state.settings.catalog_files
    return await _answer(request, lambda: api.instances_json(catalog_files=files))


@router.get("/models", summary="xpuplan models --json")
async def models(request: Request) -> CliJSON:
    """The built-in models, as `xpuplan models --json`."""
    return await _answer(request, api.models_json)


@router.get("/models/{name}", summary="xpuplan model NAME --seq-len N --json")
async def model(request: Request, name: str = Path(min_length=1, max_length=MAX_NAME_LEN),
                seq_len: int = Query(api.DEFAULT_SEQ_LEN, ge=1, le=MAX_SEQ_LEN)) -> CliJSON:
    """One model's size and shape, as `xpuplan model NAME --json`."""
    return await _answer(request, service.model, request.app.state.settings, name, seq_len)


@router.post("/train", summary="xpuplan train ... --json")
async def train(request: Request, body: TrainRequest) -> CliJSON:
    """One training prediction, as `xpuplan train --json`."""
    return await _answer(request, service.train, request.app.state.settings, body)


@router.post("/search", summary="xpuplan search ... --json")
async def search(request: Request, body: SearchRequest) -> CliJSON:
    """The best training layouts, as `xpuplan search --json`."""
    return await _answer(request, service.search, request.app.state.settings, body)


@router.post("/infer", summary="xpuplan infer ... --json")
async def infer(request: Request, body: InferRequest) -> CliJSON:
    """One serving prediction, as `xpuplan infer --json`."""
    return await _answer(request, service.infer, request.app.state.settings, body)


@router.post("/compare", summary="xpuplan compare ... [--serve] --json")
async def compare(request: Request, body: CompareRequest) -> CliJSON:
    """A comparison across chips, as `xpuplan compare --json`."""
    return await _answer(request, service.compare, request.app.state.settings, body)


@router.post("/plan", summary="xpuplan plan (--example NAME | SCENARIO) --json")
async def plan(request: Request, body: PlanRequest) -> CliJSON:
    """A scenario's plan, as `xpuplan plan --json`."""
    return await _answer(request, service.plan, request.app.state.settings, body)


@router.get("/plan/examples", summary="xpuplan plan --list --json")
async def plan_examples(request: Request) -> CliJSON:
    """The built-in plan examples, as `xpuplan plan --list --json`."""
    return await _answer(request, lambda: {"examples": api.plan_examples()})


@router.get("/validate", summary="xpuplan validate --json")
async def validate(request: Request) -> CliJSON:
    """Accuracy against the measurements, as `xpuplan validate --json`."""
    return await _answer(request, service.validate,
                         time_limit_s=service.VALIDATE_TIME_LIMIT_S)
