"""The ASGI test client for the web tests."""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi.testclient import TestClient


def make_client(app: Any) -> TestClient:
    """Starlette's ASGI test client (its import-time notice about httpx2 is not ours to act on)."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
        from fastapi.testclient import TestClient

    return TestClient(app, base_url="http://127.0.0.1")
