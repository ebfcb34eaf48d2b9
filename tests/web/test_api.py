"""The JSON API: every endpoint answers, equals the CLI's --json, and refuses bad input."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from xpuplan import api
from xpuplan.web import create_app
from xpuplan.web.schemas import MAX_CHIPS

TRAIN = {"model": "llama-3.1-8b", "chip": "h100", "n_chips": 8}


@pytest.mark.parametrize(("path", "key"), [
    ("/api/chips", "chips"), ("/api/instances", "instances"), ("/api/models", "models"),
    ("/api/plan/examples", "examples")])
def test_catalog_endpoints_list_every_record(client, path, key):
    r = client.get(path)
    assert r.status_code == 200
    expected = {"chips": len(api.chips()), "instances": len(api.instances()),
                "models": len(api.models()), "examples": len(api.plan_examples())}[key]
    assert len(r.json()[key]) == expected


@pytest.mark.parametrize(("method", "path", "body", "argv"), [
    ("get", "/api/chips", None, ["chips"]),
    ("get", "/api/instances", None, ["instances"]),
    ("get", "/api/models", None, ["models"]),
    ("get", "/api/models/llama-3.1-8b?seq_len=2048", None,
     ["model", "llama-3.1-8b", "--seq-len", "2048"]),
    ("post", "/api/train", {**TRAIN, "tokens": "1T", "tp": 2, "interval": True},
     ["train", "llama-3.1-8b", "--chip", "h100", "--chips", "8", "--tokens", "1T", "--tp", "2",
      "--interval"]),
    ("post", "/api/search", {**TRAIN, "top": 3, "recompute": "full"},
     ["search", "llama-3.1-8b", "--chip", "h100", "--chips", "8", "--top", "3",
      "--recompute", "full"]),
    ("post", "/api/infer", {"model": "llama-3.1-8b", "chip": "h200", "tpot_s": 0.02,
                            "weights": "fp8"},
     ["infer", "llama-3.1-8b", "--chip", "h200", "--tpot-ms", "20", "--weights", "fp8"]),
    ("post", "/api/compare", {"model": "llama-3.1-8b", "chip": "h100,trn2", "n_chips": 64,
                              "tokens": "2T"},
     ["compare", "llama-3.1-8b", "--chip", "h100,trn2", "--chips", "64", "--tokens", "2T"]),
    ("post", "/api/compare", {"serve": True, "chip": "h200,mi300x", "model": "qwen3-30b-a3b"},
     ["compare", "qwen3-30b-a3b", "--serve", "--chip", "h200,mi300x"]),
    ("post", "/api/plan", {"example": "aws-openai-contract"},
     ["plan", "--example", "aws-openai-contract"]),
])
def test_response_equals_the_cli_json(client, run_json, method, path, body, argv):
    r = getattr(client, method)(path, **({"json": body} if body else {}))
    assert r.status_code == 200, r.text
    web, cli = r.json(), run_json(*argv)
    for side in (web, cli):  # a wall-clock time, the one field that differs between two runs
        side.pop("search_time_s", None)
    assert web == cli


def test_validate_equals_the_cli_json(client, run_json):
    r = client.get("/api/validate")
    assert r.status_code == 200
    assert r.json() == run_json("validate")


def test_scenario_as_yaml_and_as_object_equal_the_example(client):
    text = api.plan_example_text("nvidia-10gw")
    import yaml

    by_name = client.post("/api/plan", json={"example": "nvidia-10gw"}).json()
    by_yaml = client.post("/api/plan", json={"scenario": text}).json()
    by_object = client.post("/api/plan", json={"scenario": yaml.safe_load(text)}).json()
    assert by_name["outputs"] == by_yaml["outputs"] == by_object["outputs"]


def test_uploaded_config_gives_the_builtin_numbers(client):
    entry = next(e for e in api.models() if e.id == "llama-3.1-8b")
    config = json.loads(entry.config_path.read_text())
    uploaded = client.post("/api/train", json={**TRAIN, "model": "my-8b", "config": config})
    builtin = client.post("/api/train", json=TRAIN)
    assert uploaded.status_code == 200, uploaded.text
    assert uploaded.json()["step_time_s"] == builtin.json()["step_time_s"]


@pytest.mark.parametrize(("body", "field"), [
    ({**TRAIN, "n_chips": MAX_CHIPS + 1}, "n_chips"),
    ({**TRAIN, "n_chips": 0}, "n_chips"),
    ({"model": "llama-3.1-8b", "chip": "h100", "chips": 0}, "chips"),  # the deprecated alias
    ({**TRAIN, "chips": 8}, "chips"),  # both names
    ({**TRAIN, "tp": "two"}, "tp"),
    ({**TRAIN, "zero": 4}, "zero"),
    ({**TRAIN, "precision": "fp7"}, "precision"),
    ({**TRAIN, "unknown_knob": 1}, "unknown_knob"),
    ({"chip": "h100", "n_chips": 8}, "model"),
])
def test_schema_violation_is_422_naming_the_field(client, body, field):
    r = client.post("/api/train", json=body)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"][-1] == field
    assert r.json()["detail_text"].startswith(field)


@pytest.mark.parametrize(("path", "body", "field"), [
    ("/api/train", {**TRAIN, "chip": "h1OO"}, "chip"),
    ("/api/train", {**TRAIN, "tokens": "lots"}, "tokens"),
    ("/api/train", {**TRAIN, "tp": 3}, "layout"),
    ("/api/infer", {"model": "llama-3.1-8b", "chip": "h100", "weights": "fp4"}, "weights"),
    ("/api/compare", {"chip": ",".join(["h100"] * 17)}, "chip"),
    ("/api/plan", {"scenario": "kind: [unclosed"}, "scenario"),
    ("/api/plan", {"scenario": "- a list"}, "scenario"),
    ("/api/plan", {}, "scenario"),
    ("/api/train", {**TRAIN, "model": "/etc/hostname"}, "model"),
    ("/api/train", {**TRAIN, "model": "someone/private-model"}, "model"),
    ("/api/plan", {"scenario": {"kind": "contract", "name": "x", "description": "x",
                                "budget_usd": 1e9, "years": 1, "chip": "h100",
                                "training": {"model": "/etc/hostname", "tokens": 1e12,
                                             "chips": 8}}}, "model"),
])
def test_xpuplan_error_is_422_with_one_line_naming_the_field(client, path, body, field):
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == field
    assert "\n" not in r.json()["detail"] and "Traceback" not in r.text


def test_infeasible_job_is_422(client):
    r = client.post("/api/train", json={"model": "llama-3.1-405b", "chip": "h100", "n_chips": 1})
    assert r.status_code == 422
    assert "nothing fits" in r.json()["detail"]


def test_paths_open_only_when_allowed(tmp_path):
    entry = next(e for e in api.models() if e.id == "llama-3.1-8b")
    (tmp_path / "config.json").write_text(entry.config_path.read_text())
    body = {**TRAIN, "model": str(tmp_path)}
    with TestClient(create_app()) as closed, TestClient(create_app(allow_paths=True)) as open_:
        assert closed.post("/api/train", json=body).status_code == 422
        assert open_.post("/api/train", json=body).status_code == 200


def test_body_over_the_limit_is_413():
    with TestClient(create_app(max_body_bytes=1000)) as c:
        big = {"scenario": "x" * 2000}
        assert c.post("/api/plan", json=big).status_code == 413
        chunks = (b"x" * 500 for _ in range(4))  # streamed: no Content-Length
        r = c.post("/api/plan", content=chunks, headers={"content-type": "application/json"})
        assert r.status_code == 413
        assert c.post("/api/plan", json={"example": "nvidia-10gw"}).status_code == 200


def test_request_past_the_time_limit_is_503_and_the_server_goes_on():
    with TestClient(create_app(time_limit_s=1e-4)) as c:
        r = c.post("/api/compare", json={"chip": "h100,b200", "n_chips": 1024})
        assert r.status_code == 503
        assert "limit" in r.json()["detail"]


def test_openapi_lists_one_endpoint_per_command(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/chips", "/api/instances", "/api/models", "/api/models/{name}", "/api/train",
            "/api/search", "/api/infer", "/api/compare", "/api/plan",
            "/api/validate"} <= set(paths)
    assert set(paths["/api/train"]["post"]["requestBody"]["content"]) == {"application/json"}


def test_assets_are_served_locally(client):
    assert client.get("/static/plotly.min.js").content.startswith(b"/**")
    docs = client.get("/docs").text
    assert "/static/swagger/swagger-ui-bundle.js" in docs and "cdn" not in docs
    assert client.get("/static/swagger/swagger-ui-bundle.js").status_code == 200
