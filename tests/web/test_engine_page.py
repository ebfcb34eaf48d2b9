"""The serving engine on the pages: the serve and compare (serving) forms offer the API's
engines with a blank "default for the chip", carry the chosen one into the request, name the
engine that ran in the results, and show a bad engine as the API's one-line error (422)."""

from __future__ import annotations

import html
import re

import pytest

from xpuplan import api


def _options(page: str) -> list[str]:
    select = re.search(r'<select name="engine">(.*?)</select>', page, re.S).group(1)
    return re.findall(r'<option value="([^"]*)"', select)


def _engines_shown(page: str) -> list[str]:
    return re.findall(r'<td class="engine">([^<]*)</td>', page)


def _row_values(page: str, chip: str) -> list[float]:
    row = re.search(rf'<tr data-chip="{chip}"[^>]*>(.*?)</tr>', page, re.S).group(1)
    return [float(v) for v in re.findall(r'data-value="([^"]+)"', row)]


@pytest.mark.parametrize("path", ["/serve", "/compare?tab=serve"])
def test_engine_select_offers_every_vendor_engine_once_after_a_blank_default(client, path):
    by_vendor = api.engines()
    want = list(dict.fromkeys(e for v in by_vendor.values() for e in v["engines"]))
    assert _options(client.get(path).text) == ["", *want]
    assert {"tensorrt-llm", "nxd-inference", "jetstream"} <= set(want)
    assert list(by_vendor) == list(dict.fromkeys(c.vendor for c in api.chips()))
    assert all(v["default"] in v["engines"] for v in by_vendor.values())


def test_training_tab_has_no_engine_select(client):
    assert '<select name="engine">' not in client.get("/compare?tab=train").text


def test_serve_form_carries_the_engine_and_the_result_names_it(client):
    body = {"model": "llama-3.1-8b", "chip": "h200"}
    chosen = client.get("/serve", params={**body, "engine": "vllm"})
    want = client.post("/api/infer", json={**body, "engine": "vllm"}).json()
    assert chosen.status_code == 200 and want["engine"] == "vllm"
    assert _engines_shown(chosen.text) == ["vllm"]
    assert _row_values(chosen.text, "h200")[1] == want["output_tokens_per_s_per_chip"]
    blank = client.get("/serve", params={**body, "engine": ""})  # the blank choice
    assert _engines_shown(blank.text) == [api.engines()["nvidia"]["default"]]
    default = client.post("/api/infer", json=body).json()
    assert _row_values(blank.text, "h200")[1] == default["output_tokens_per_s_per_chip"]


def test_compare_serving_form_posts_the_engine_to_every_chip(client):
    form = {"tab": "serve", "model": "llama-3.1-8b", "chip": "h200,mi300x", "chips": "1",
            "engine": "sglang"}
    page = client.post("/compare", data=form)  # the multipart POST an upload makes
    want = client.post("/api/compare", json={"serve": True, "model": "llama-3.1-8b",
                                             "chip": "h200,mi300x", "n_chips": 1,
                                             "engine": "sglang"}).json()
    assert page.status_code == 200, page.text
    assert _engines_shown(page.text) == [r["engine"] for r in want["rows"]] == ["sglang"] * 2
    for r in want["rows"]:
        assert _row_values(page.text, r["chip"])[1] == r["output_tokens_per_s_per_chip"]


@pytest.mark.parametrize(("page", "api_path", "body"), [
    ("/serve", "/api/infer", {"model": "llama-3.1-8b", "chip": "trn2", "engine": "vllm"}),
    ("/compare", "/api/compare", {"model": "llama-3.1-8b", "chip": "h200,tpu-v6e",
                                  "engine": "tensorrt-llm"}),
    ("/serve", "/api/infer", {"model": "llama-3.1-8b", "chip": "h200", "engine": "nope"}),
])
def test_bad_engine_on_a_page_is_the_api_one_line_error(client, page, api_path, body):
    serve = {"tab": "serve"} if page == "/compare" else {}
    r = client.get(page, params={**body, **serve})
    want = client.post(api_path, json={**body, **({"serve": True} if serve else {})})
    assert r.status_code == want.status_code == 422
    shown = re.findall(r'<p class="error" role="alert">error: ([^<]+)</p>', r.text)
    assert [html.unescape(s) for s in shown] == [want.json()["detail"]]
    assert want.json()["field"] == "engine" and "Traceback" not in r.text
