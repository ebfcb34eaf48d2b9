"""The serving engine in web bodies: compare (serve) runs it on every chip, equal to the CLI's
--json; a bad engine on infer or compare is a one-line 422 naming the field."""

from __future__ import annotations

import pytest


def test_compare_serve_engine_equals_the_cli_json(client, run_json):
    body = {"serve": True, "model": "llama-3.1-8b", "chip": "h200,mi300x", "n_chips": 1,
            "engine": "sglang"}
    r = client.post("/api/compare", json=body)
    assert r.status_code == 200, r.text
    cli = run_json("compare", "llama-3.1-8b", "--serve", "--chip", "h200,mi300x", "--chips",
                   "1", "--engine", "sglang")
    assert r.json() == cli and cli["engine"] == "sglang"
    assert [row["engine"] for row in cli["rows"]] == ["sglang", "sglang"]


@pytest.mark.parametrize(("path", "body", "says"), [
    ("/api/infer", {"model": "llama-3.1-8b", "chip": "trn2", "engine": "vllm"},
     "serves with nxd-inference"),
    ("/api/compare", {"serve": True, "model": "llama-3.1-8b", "chip": "h200,tpu-v6e",
                      "engine": "tensorrt-llm"}, "TPU v6e"),
    ("/api/compare", {"model": "llama-3.1-8b", "chip": "h200", "engine": "vllm"},
     "only with serve"),
])
def test_bad_engine_is_422_in_one_line(client, path, body, says):
    r = client.post(path, json=body)
    assert r.status_code == 422, r.text
    assert r.json()["field"] == "engine" and says in r.json()["detail"]
    assert "\n" not in r.json()["detail"] and "Traceback" not in r.text
