"""`xpuplan ui`: prints its URL and runs uvicorn on the host and port given."""

from __future__ import annotations

import uvicorn


def test_ui_prints_its_url_and_binds_localhost_by_default(run_cli, monkeypatch):
    calls = []
    monkeypatch.setattr(uvicorn, "run", lambda app, **kw: calls.append((app, kw)))
    code, out, _ = run_cli("ui", "--port", "8123")
    assert code == 0
    assert "http://127.0.0.1:8123/" in out
    app, kw = calls[0]
    assert kw["host"] == "127.0.0.1" and kw["port"] == 8123
    assert app.state.settings.allow_paths is False


def test_ui_bad_port_is_one_line_exit_2(run_cli):
    code, _, err = run_cli("ui", "--port", "70000")
    assert code == 2 and err.startswith("error: port = 70000")
