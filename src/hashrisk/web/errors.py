"""Every error of the API as JSON (:class:`~hashrisk.web.models.ErrorOut`), and the request-body size cap."""

from __future__ import annotations

import math
import re
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette._utils import parse_host_header
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.trustedhost import TrustedHostMiddleware

from hashrisk.data.store import default_home, store_path
from hashrisk.errors import DataError, HashriskError, InputError, StoreDamagedError, UnknownNameError
from hashrisk.web.models import ErrorOut

MAX_BODY_BYTES = 16 * 1024
"""Largest request body accepted [bytes]."""
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
"""Host names always allowed in the ``Host`` header (the loopback names)."""

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def safe_value(value: Any) -> Any:
    """A received value as JSON can hold it (non-finite floats and other objects as text)."""
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return str(value)


_ABSOLUTE_PATH = re.compile(r"(?<![\w/.])(?:[A-Za-z]:)?[/\\][^\s;,()]+")


def without_paths(message: str, folders: tuple[str, ...] = ()) -> str:
    """`message` with the server's `folders` and any other absolute path replaced (not the client's business)."""
    for folder in sorted(folders, key=len, reverse=True):
        message = message.replace(folder, "the server's data folder")
    return _ABSOLUTE_PATH.sub("the server's data store", message)


def error_response(status: int, error: str, message: str, **extra: Any) -> JSONResponse:
    """An :class:`ErrorOut` JSON response."""
    body = ErrorOut(error=error, message=message, **extra).model_dump(exclude_none=True)
    return JSONResponse(status_code=status, content=body)


class BodySizeLimit:
    """ASGI middleware: refuse request bodies above `max_bytes` with a 413 JSON error."""

    def __init__(self, app: ASGIApp, max_bytes: int = MAX_BODY_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def _reject(self, send: Send) -> None:
        resp = error_response(
            413,
            "too large",
            f"request body larger than {self.max_bytes:,} bytes",
            field="body",
            allowed=f"at most {self.max_bytes:,} bytes",
        )
        await send({"type": "http.response.start", "status": 413, "headers": resp.raw_headers})
        await send({"type": "http.response.body", "body": resp.body})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    declared = self.max_bytes + 1
                if declared > self.max_bytes:
                    await self._reject(send)
                    return
        received = 0
        started = False
        too_large = False

        async def limited_receive() -> Message:
            nonlocal received, too_large
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    too_large = True
                    return {"type": "http.disconnect"}
            return message

        async def tracked_send(message: Message) -> None:
            nonlocal started
            if too_large:
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, limited_receive, tracked_send)
        if too_large and not started:
            await self._reject(send)


class AllowedHosts(TrustedHostMiddleware):
    """Starlette's :class:`TrustedHostMiddleware` answering a foreign ``Host`` header with a 400 JSON error.

    A web page on another domain that rebinds its DNS name to 127.0.0.1 sends its own name as ``Host``:
    refusing every name but the allowed ones keeps such pages away from the API.
    """

    def __init__(self, app: ASGIApp, allowed_hosts: list[str]) -> None:
        hosts = [h.strip("[]") for h in (*LOCAL_HOSTS, *allowed_hosts)]
        super().__init__(app, allowed_hosts=list(dict.fromkeys(hosts)), www_redirect=False)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.allow_any or scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        parsed = parse_host_header(Headers(scope=scope).get("host"))
        host = "" if parsed is None else parsed.host.lower().strip("[]")
        if any(host == p or (p.startswith("*.") and host.endswith(p[1:])) for p in self.allowed_hosts):
            await self.app(scope, receive, send)
            return
        resp = error_response(
            400,
            "invalid host",
            "Host header not allowed (start the server with --allowed-host NAME to allow a name)",
            field="host",
            value=host[:80],
            allowed="one of " + ", ".join(self.allowed_hosts),
        )
        await resp(scope, receive, send)


def register_error_handlers(app: FastAPI) -> None:
    """Turn hashrisk's errors, request validation errors and HTTP errors into :class:`ErrorOut` JSON."""

    @app.exception_handler(InputError)
    async def _input_error(request: Request, exc: InputError) -> JSONResponse:
        unknown = isinstance(exc, UnknownNameError)  # a well-formed name that is not in the catalog
        return error_response(
            404 if unknown else 422,
            "not found" if unknown else "invalid input",
            str(exc),
            field=exc.field,
            value=safe_value(exc.value),
            allowed=exc.allowed,
            hint=exc.hint,
        )

    @app.exception_handler(StoreDamagedError)
    async def _damaged_store(request: Request, exc: StoreDamagedError) -> JSONResponse:
        home = getattr(getattr(request.app.state, "services", None), "home", None)
        folders = (str(store_path(home)), str(default_home(home)))
        return error_response(503, "store damaged", without_paths(str(exc), folders))

    @app.exception_handler(DataError)
    async def _data_error(request: Request, exc: DataError) -> JSONResponse:
        home = getattr(getattr(request.app.state, "services", None), "home", None)
        folders = (str(store_path(home)), str(default_home(home)))
        return error_response(404, "not found", without_paths(str(exc), folders))

    @app.exception_handler(HashriskError)
    async def _other_error(request: Request, exc: HashriskError) -> JSONResponse:
        return error_response(400, "bad request", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        errs = exc.errors()
        first = errs[0] if errs else {"loc": (), "msg": "invalid request"}
        loc = [str(p) for p in first.get("loc", ())]
        field = ".".join(loc[1:]) if len(loc) > 1 else (loc[0] if loc else "request")
        where = loc[0] if loc else "request"
        return error_response(
            422,
            "invalid input",
            f"{field} ({where}): {first.get('msg', 'invalid')}",
            field=field,
            value=safe_value(first.get("input")),
            allowed=str(first.get("msg", "")),
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400:  # FastAPI's "There was an error parsing the body"
            return error_response(
                400, "invalid input", f"body: {exc.detail}", field="body", allowed="a JSON object"
            )
        resp = error_response(
            exc.status_code, "not found" if exc.status_code == 404 else "http error", str(exc.detail)
        )
        resp.headers.update(exc.headers or {})  # e.g. Allow on a 405 (RFC 9110)
        return resp
