"""The dashboard page and its files (``/``, ``/static/...``; plotly.js from the plotly package)."""

from __future__ import annotations

from functools import lru_cache
from importlib import resources

from fastapi import APIRouter
from fastapi.responses import HTMLResponse, Response

STATIC = "hashrisk.web"

router = APIRouter(include_in_schema=False)


def _static_text(name: str) -> str:
    return resources.files(STATIC).joinpath(f"static/{name}").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _plotly_js() -> bytes:
    return resources.files("plotly").joinpath("package_data/plotly.min.js").read_bytes()


@router.get("/", response_class=HTMLResponse)
def dashboard() -> HTMLResponse:
    """The dashboard page."""
    return HTMLResponse(_static_text("index.html"))


@router.get("/static/plotly.min.js")
def plotly_js() -> Response:
    """plotly.js, from the installed plotly package (cached by the browser for a day)."""
    return Response(_plotly_js(), media_type="text/javascript", headers={"Cache-Control": "max-age=86400"})


@router.get("/static/dashboard.js")
def dashboard_js() -> Response:
    """The dashboard's script."""
    return Response(_static_text("dashboard.js"), media_type="text/javascript")


@router.get("/static/dashboard.css")
def dashboard_css() -> Response:
    """The dashboard's style sheet."""
    return Response(_static_text("dashboard.css"), media_type="text/css")
