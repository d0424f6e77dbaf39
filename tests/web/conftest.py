"""Fixtures of the web tests: the app, a live uvicorn server on 127.0.0.1, headless Chromium."""

from __future__ import annotations

import contextlib
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
"""Launch flags from DESIGN.md (Web)."""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def web_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty, private data folder for the app (no store: the embedded snapshot)."""
    return tmp_path_factory.mktemp("web-home")


def watch_page(page: Any) -> tuple[list[str], list[str]]:
    """Lists that fill with the page's console errors, page errors and failed requests, and with every URL
    it requests (to check that nothing leaves 127.0.0.1)."""
    problems: list[str] = []
    requests: list[str] = []
    page.on(
        "console", lambda m: problems.append(f"console.{m.type}: {m.text}") if m.type == "error" else None
    )
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    page.on("request", lambda r: requests.append(r.url))
    return problems, requests


@contextlib.contextmanager
def serve(home: Path) -> Iterator[str]:
    """The app on `home` served by uvicorn in a thread on a free port of 127.0.0.1; yields its base URL."""
    import uvicorn

    from hashrisk.web.app import create_app

    port = _free_port()
    config = uvicorn.Config(create_app(home=home), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start within 30 s")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def live_server(web_home: Path) -> Iterator[str]:
    """The app on an empty data folder, served on a free port of 127.0.0.1; yields its base URL."""
    with serve(web_home) as url:
        yield url


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """Headless Debian Chromium driven by Playwright (skips only when /usr/bin/chromium is absent)."""
    executable = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if executable is None:
        pytest.skip(f"{CHROMIUM} is absent (Debian package `chromium`; CI installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()
