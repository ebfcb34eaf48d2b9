"""Screenshot each page of `xpuplan ui` with headless Chromium (Debian's /usr/bin/chromium).

    python scripts/ui_screenshots.py OUT_DIR [--readme docs/ui.png]

Starts the app on 127.0.0.1 on a free port, shoots each page with example inputs, stops it.
"""

from __future__ import annotations

import argparse
import socket
import threading
import time
from pathlib import Path

import uvicorn
from playwright.sync_api import sync_playwright

from xpuplan.web import create_app

PAGES = {
    "compare": "/compare?tab=train&model=llama-3.1-70b&chip=h100-sxm,h200,b200,trn2,tpu-v6e,"
               "mi300x&chips=4096&tokens=15T",
    "compare-serve": "/compare?tab=serve&model=llama-3.1-70b&chip=h200,b200,mi300x,trn2",
    "train": "/train?model=llama-3.1-8b&chip=h100-sxm&chips=64&tokens=1T&top=5",
    "serve": "/serve?model=llama-3.1-70b&chip=h100-sxm,h200,b200,mi300x&tpot_ms=50",
    "plan": "/plan?example=nvidia-10gw",
    "accuracy": "/accuracy",
    "catalog": "/catalog?q=nvidia",
    "docs": "/docs",
}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("out", type=Path)
    parser.add_argument("--readme", type=Path, help="also save the top 1200x900 px of the "
                        "compare page here (the README screenshot)")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(create_app(), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.05)
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium",
                                        args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            for name, path in PAGES.items():
                page.goto(f"http://127.0.0.1:{port}{path}", timeout=60_000)
                page.wait_for_load_state("networkidle")
                page.screenshot(path=args.out / f"{name}.png", full_page=True)
                if name == "compare" and args.readme:
                    page.screenshot(path=args.readme, clip={"x": 0, "y": 0, "width": 1200,
                                                            "height": 900})
            browser.close()
    finally:
        server.should_exit = True
        thread.join(timeout=10)


if __name__ == "__main__":
    main()
