"""Web bodies in SI (`n_chips`, `ttft_s`, `tpot_s`); the old `chips`, `ttft_ms` and `tpot_ms`
are still accepted, give the same answer, and are marked deprecated in the OpenAPI schema."""

from __future__ import annotations

import re

INFER = {"model": "llama-3.1-8b", "chip": "h100"}


def _post(client, path, body) -> dict:
    r = client.post(path, json=body)
    assert r.status_code == 200, r.text
    return r.json()


def test_old_infer_names_give_the_si_answer(client):
    new = _post(client, "/api/infer", {**INFER, "n_chips": 1, "ttft_s": 0.2, "tpot_s": 0.02})
    old = _post(client, "/api/infer", {**INFER, "chips": 1, "ttft_ms": 200, "tpot_ms": 20})
    assert old == new and new["n_chips"] == 1 and new["tpot_s"] <= 0.02


def test_chips_alias_of_train_and_compare(client):
    body = {**INFER, "tokens": "1T"}
    assert (_post(client, "/api/train", {**body, "chips": 8})
            == _post(client, "/api/train", {**body, "n_chips": 8}))
    compare = {"model": "llama-3.1-8b", "chip": "h100", "tokens": "1T"}
    assert (_post(client, "/api/compare", {**compare, "chips": 64})
            == _post(client, "/api/compare", {**compare, "n_chips": 64}))


def test_old_and_new_slo_together_is_422(client):
    r = client.post("/api/infer", json={**INFER, "ttft_s": 0.2, "ttft_ms": 200})
    assert r.status_code == 422 and "give ttft_s (seconds) or ttft_ms" in r.json()["detail_text"]


def test_openapi_marks_the_old_names_deprecated(client):
    schemas = client.get("/openapi.json").json()["components"]["schemas"]
    infer = schemas["InferRequest"]["properties"]
    assert infer["ttft_ms"]["deprecated"] is True and infer["tpot_ms"]["deprecated"] is True
    assert "deprecated" not in infer["ttft_s"]
    for name in ("InferRequest", "TrainRequest", "CompareRequest"):
        props = schemas[name]["properties"]
        assert "chips" not in props and "`chips`: a deprecated alias" in props["n_chips"][
            "description"]


def test_page_forms_read_both_chip_names(client):
    """A page URL with the old `chips` (shared links) or the new `n_chips` shows the API's
    numbers for that many chips."""
    body = {"model": "llama-3.1-8b", "chip": "h100", "n_chips": 16}
    want = _post(client, "/api/train", body)["step_time_s"]
    for key in ("chips", "n_chips"):
        html = client.get("/train", params={**INFER, key: 16}).text
        shown = re.findall(r'data-key="step_time_s" data-value="([^"]+)"', html)
        assert [float(v) for v in shown] == [want]
