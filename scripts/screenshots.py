"""Screenshots for the README: the top of the desk report and the live dashboard, in headless Chromium.

    python scripts/screenshots.py [--out docs/img] [--chromium /usr/bin/chromium]

Builds the report on the embedded snapshot with an empty, temporary data folder (nothing stored, no
network), serves the dashboard with uvicorn on a free port of 127.0.0.1, and writes ``report.png`` and
``dashboard.png``.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import threading
import time
from pathlib import Path

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "img")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        home.mkdir()
        os.environ["HASHRISK_HOME"] = str(home)  # nothing stored: the embedded snapshot

        import uvicorn
        from playwright.sync_api import sync_playwright

        from hashrisk.report import build_report, load_context, write_report
        from hashrisk.web.app import create_app

        report_path = Path(tmp) / "report.html"
        write_report(build_report(load_context(home=home)), report_path)

        port = _free_port()
        server = uvicorn.Server(
            uvicorn.Config(create_app(home=home), host="127.0.0.1", port=port, log_level="warning")
        )
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.05)
        try:
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=args.chromium, args=ARGS)
                page = browser.new_page(viewport={"width": 1280, "height": 1560})
                page.goto(report_path.as_uri())
                page.wait_for_function("document.querySelectorAll('.plot-container').length > 3")
                page.screenshot(path=str(args.out / "report.png"))
                page = browser.new_page(viewport={"width": 1280, "height": 1080})
                page.goto(f"http://127.0.0.1:{port}/")
                page.wait_for_selector("body[data-sim-price][data-curve-price]", timeout=60_000)
                page.fill("#price-slider", "60000")
                page.wait_for_selector('body[data-sim-price="60000"]', timeout=60_000)
                page.evaluate("document.activeElement.blur()")
                page.wait_for_timeout(500)
                page.screenshot(path=str(args.out / "dashboard.png"))
                browser.close()
        finally:
            server.should_exit = True
            thread.join(timeout=10)
    for name in ("report.png", "dashboard.png"):
        path = args.out / name
        print(f"wrote {path} ({path.stat().st_size:,} bytes)")


if __name__ == "__main__":
    main()
