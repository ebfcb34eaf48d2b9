"""Each page in headless Chromium (Debian's): it loads, a form submission draws its Plotly
chart, and the numbers shown are the API's for the same inputs."""

from __future__ import annotations

import json
import os

import httpx
import pytest

CHROMIUM = "/usr/bin/chromium"
pytestmark = pytest.mark.skipif(not os.path.exists(CHROMIUM),
                                reason=f"{CHROMIUM} is absent (.ci/run installs Debian's "
                                       "chromium)")


@pytest.fixture(scope="module")
def page(server_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        tab = browser.new_page(viewport={"width": 1280, "height": 900})
        tab.set_default_timeout(30_000)
        yield tab
        browser.close()


def _api(server_url, path, body=None):
    with httpx.Client(base_url=server_url, timeout=60) as c:
        r = c.post(path, json=body) if body is not None else c.get(path)
    assert r.status_code == 200, r.text
    return r.json()


def _submit(page, fields: dict):
    for name, value in fields.items():
        page.fill(f"form.inputs [name={name}]", str(value))
    with page.expect_navigation():
        page.click("form.inputs button[type=submit]")


def _chart_traces(page) -> list[dict]:
    """The traces of every drawn Plotly graph (x, y), after the charts have rendered."""
    page.wait_for_selector(".js-plotly-plot .main-svg")
    return page.evaluate("""() => [...document.querySelectorAll('.js-plotly-plot')].map(
        el => el.data.map(t => ({name: t.name || null, x: t.x, y: t.y})))""")


def _shown(page, selector: str) -> list[tuple[float, str]]:
    """(data-value, text) of the cells matched: the exact number and what the user reads."""
    return page.eval_on_selector_all(selector, "els => els.map(e => [e.dataset.value, "
                                               "e.textContent.trim()])")


def _close(text: str, value: float, rel: float = 5e-4) -> bool:
    shown = float(text.replace(",", ""))
    return abs(shown - value) <= rel * abs(value)


def test_compare_training_tab(page, server_url):
    page.goto(f"{server_url}/compare")
    _submit(page, {"model": "llama-3.1-8b", "chip": "h100,b200", "chips": 64, "tokens": "2T"})
    assert "chip=h100%2Cb200" in page.url  # the inputs are in the shareable URL
    want = _api(server_url, "/api/compare", {"model": "llama-3.1-8b", "chip": "h100,b200",
                                            "chips": 64, "tokens": "2T"})
    charts = _chart_traces(page)
    mfu = charts[2][0]
    assert mfu["x"] == [r["chip"] for r in want["rows"]]
    assert mfu["y"] == [r["mfu"] for r in want["rows"]]
    for r in want["rows"]:
        (step, step_text), (mfu_value, _) = _shown(page, f"tr[data-chip='{r['chip']}'] td[data-value]")[:2]
        assert float(step) == r["step_time_s"] and _close(step_text, r["step_time_s"])
        assert float(mfu_value) == r["mfu"]


def test_compare_serving_tab(page, server_url):
    page.goto(f"{server_url}/compare?tab=serve")
    _submit(page, {"model": "llama-3.1-8b", "chip": "h200,mi300x"})
    want = _api(server_url, "/api/compare", {"model": "llama-3.1-8b", "chip": "h200,mi300x",
                                            "serve": True})
    tokens = _chart_traces(page)[0][0]
    assert tokens["y"] == [r["output_tokens_per_s_per_chip"] for r in want["rows"]]
    for r in want["rows"]:
        cells = _shown(page, f"tr[data-chip='{r['chip']}'] td[data-value]")
        assert float(cells[1][0]) == r["output_tokens_per_s_per_chip"]
        assert _close(cells[2][1], r["usd_per_mtok_output"])


def test_train_page(page, server_url):
    page.goto(f"{server_url}/train")
    _submit(page, {"model": "llama-3.1-8b", "chip": "h100", "chips": 16, "tokens": "1T",
                   "tp": 2})
    body = {"model": "llama-3.1-8b", "chip": "h100", "chips": 16, "tokens": "1T", "tp": 2}
    want = _api(server_url, "/api/train", body)
    step = _chart_traces(page)[0]
    assert {t["name"]: t["y"][0] for t in step} == {k: v for k, v in want["breakdown_s"].items()
                                                     if v}
    for key in ("step_time_s", "mfu", "cost_usd"):
        value, text = _shown(page, f"b[data-key={key}]")[0]
        assert float(value) == want[key] and _close(text, want[key])
    top = _api(server_url, "/api/search", {**{k: v for k, v in body.items() if k != "tokens"},
                                           "top": 5})["top"]
    rows = _shown(page, "#top-layouts td[data-value]")
    assert [float(v) for v, _ in rows[::3]] == [t["step_time_s"] for t in top]


def test_serve_page(page, server_url):
    page.goto(f"{server_url}/serve")
    _submit(page, {"model": "llama-3.1-8b", "chip": "h100,h200", "tpot_ms": 30})
    traces = _chart_traces(page)[0]
    for chip, trace in zip(("h100", "h200"), traces, strict=True):
        want = _api(server_url, "/api/infer", {"model": "llama-3.1-8b", "chip": chip,
                                              "tpot_ms": 30})
        assert trace["y"] == [p["output_tokens_per_s_per_chip"] for p in want["pareto"]]
        cells = _shown(page, f"tr[data-chip='{chip}'] td[data-value]")
        assert float(cells[1][0]) == want["output_tokens_per_s_per_chip"]
        assert float(cells[2][0]) == want["usd_per_mtok_output"]


def test_plan_page_runs_an_example_and_shows_yaml_errors_inline(page, server_url):
    page.goto(f"{server_url}/plan")
    with page.expect_navigation():
        page.select_option("#example", "nvidia-10gw")  # choosing one runs it
    want = _api(server_url, "/api/plan", {"example": "nvidia-10gw"})
    assert _chart_traces(page)
    for key, value in want["outputs"].items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            assert float(_shown(page, f"b[data-key={key}]")[0][0]) == value
    page.fill("textarea[name=scenario]", "kind: contract\nyears: [unclosed")
    with page.expect_navigation():
        page.click("form.inputs button[type=submit]")
    assert "scenario" in page.inner_text("p.error") and "line" in page.inner_text("p.error")


def test_accuracy_page(page, server_url):
    page.goto(f"{server_url}/accuracy", timeout=180_000)  # a cold validate: 10-20 s, more
    # on a busy machine
    with page.expect_navigation(timeout=180_000):
        page.select_option("select[name=kind]", "train")
        page.click("form.inputs button[type=submit]")
    want = _api(server_url, "/api/validate")
    charts = _chart_traces(page)
    plotted = sum(len(t["x"]) for t in charts[0][:-1])  # the last trace is y = x
    assert plotted == sum(1 for r in want["rows"] if r["kind"] == "train")
    for key, v in want["by_vendor"].items():
        if key.startswith("train/"):
            cells = _shown(page, f"tr[data-key='{key}'] td[data-value]")
            assert float(cells[1][0]) == v["median_error"]
            assert float(cells[3][0]) == v["median_error_loso"]


def test_catalog_page_searches(page, server_url):
    page.goto(f"{server_url}/catalog")
    _submit(page, {"q": "trainium"})
    chips = _api(server_url, "/api/chips")["chips"]
    hits = [c for c in chips if "trainium" in json.dumps(c, default=str).lower()]
    bars = _chart_traces(page)[0][0]
    assert bars["x"] == [c["id"] for c in hits if "bf16_dense_flops" in c["figures"]]
    assert page.eval_on_selector_all("#chips tbody tr", "rs => rs.map(r => r.dataset.id)") == [
        c["id"] for c in hits]


def test_serve_page_engine_select(page, server_url):
    page.goto(f"{server_url}/serve")
    page.fill("form.inputs [name=model]", "llama-3.1-8b")
    page.fill("form.inputs [name=chip]", "h200")
    page.select_option("form.inputs select[name=engine]", "vllm")
    with page.expect_navigation():
        page.click("form.inputs button[type=submit]")
    assert "engine=vllm" in page.url  # the chosen engine is in the shareable URL
    want = _api(server_url, "/api/infer", {"model": "llama-3.1-8b", "chip": "h200",
                                          "engine": "vllm"})
    assert page.inner_text("tr[data-chip='h200'] td.engine") == want["engine"] == "vllm"
    cells = _shown(page, "tr[data-chip='h200'] td[data-value]")
    assert float(cells[1][0]) == want["output_tokens_per_s_per_chip"]
