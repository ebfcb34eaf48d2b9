"""The pages through the in-process client: inputs from the query string (or an upload),
numbers equal the API's, bad input shown inline as 422, plan downloads."""

from __future__ import annotations

import csv
import io
import re

import pytest

from xpuplan import api


def _values(html: str, key: str) -> list[float]:
    return [float(v) for v in re.findall(rf'data-key="{key}" data-value="([^"]+)"', html)]


@pytest.mark.parametrize("path", [
    "/compare", "/compare?tab=serve", "/train", "/serve", "/plan", "/accuracy", "/catalog"])
def test_every_page_loads_with_its_form(client, path):
    r = client.get(path)
    assert r.status_code == 200
    assert "<form" in r.text and "/static/plotly.min.js" in r.text


def test_root_redirects_to_compare(client):
    r = client.get("/", follow_redirects=False)
    assert r.status_code == 307 and r.headers["location"] == "/compare"


def test_train_page_shows_the_api_numbers(client):
    body = {"model": "llama-3.1-8b", "chip": "h100", "chips": 16, "pp": 2}
    want = client.post("/api/train", json=body).json()
    html = client.get("/train", params=body).text
    assert _values(html, "step_time_s") == [want["step_time_s"]]
    assert _values(html, "mfu") == [want["mfu"]]
    assert 'class="chart"' in html


def test_uploaded_config_on_a_page_is_posted_and_gives_the_builtin_numbers(client):
    entry = next(e for e in api.models() if e.id == "llama-3.1-8b")
    want = client.post("/api/train", json={"model": "llama-3.1-8b", "chip": "h100",
                                           "chips": 8}).json()
    r = client.post("/train", data={"chip": "h100", "chips": "8"},
                    files={"config_file": ("config.json", entry.config_path.read_bytes(),
                                           "application/json")})
    assert r.status_code == 200
    assert _values(r.text, "step_time_s") == [want["step_time_s"]]
    assert "uploaded config.json" in r.text


@pytest.mark.parametrize(("path", "field"), [
    ("/train?model=llama-3.1-8b&chip=h100&chips=0", "chips"),
    ("/train?model=llama-3.1-8b&chip=h1OO&chips=8", "chip"),
    ("/serve?model=nope&chip=h100", "model"),
    ("/compare?chip=h100&chips=64&tokens=many", "tokens"),
    ("/plan?scenario=kind%3A+%5B", "scenario"),
    ("/accuracy?kind=both", "kind"),
])
def test_bad_page_input_is_422_with_the_field_inline(client, path, field):
    r = client.get(path)
    assert r.status_code == 422
    message = re.search(r'<p class="error" role="alert">error: ([^<]+)</p>', r.text).group(1)
    assert field in message.split(":")[0] or field in message.split("=")[0]


def test_plan_downloads_are_the_api_plan(client):
    want = client.post("/api/plan", json={"example": "nvidia-10gw"}).json()
    assert client.get("/plan/report.json?example=nvidia-10gw").json() == want
    report = client.get("/plan/report.html?example=nvidia-10gw")
    assert report.headers["content-type"].startswith("text/html")
    assert want["name"] in report.text and "plotly" in report.text
    rows = list(csv.DictReader(io.StringIO(client.get("/plan/report.csv?example="
                                                      "nvidia-10gw").text)))
    outputs = {r["key"]: r["value"] for r in rows if r["section"] == "outputs"}
    assert float(outputs["n_chips"]) == want["outputs"]["n_chips"]
    assert client.get("/plan/report.pdf?example=nvidia-10gw").status_code == 404


def test_plan_page_with_edited_yaml_reproduces_from_its_url(client):
    text = re.sub(r"^gw: .*$", "gw: 5", api.plan_example_text("nvidia-10gw"), flags=re.M)
    assert "gw: 5\n" in text
    html = client.get("/plan", params={"scenario": text}).text
    want = client.post("/api/plan", json={"scenario": text}).json()
    assert _values(html, "n_chips") == [want["outputs"]["n_chips"]]
    assert want["outputs"]["gw"] == 5
    full = client.post("/api/plan", json={"example": "nvidia-10gw"}).json()["outputs"]["n_chips"]
    assert want["outputs"]["n_chips"] == pytest.approx(full / 2, rel=1e-3)  # half the power
