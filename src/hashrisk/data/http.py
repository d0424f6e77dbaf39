"""The one HTTP layer every network connector uses.

`HttpClient` wraps :mod:`httpx` with what public data APIs need:

* a base URL, a timeout and credentials (HTTP basic auth, headers or query parameters such as an API key)
  given as parameters;
* retries with exponential backoff on HTTP 429 and 5xx, on timeouts and on connection errors, honouring the
  ``Retry-After`` header (seconds or an HTTP date), capped; jitter comes from a passed-in random generator
  (or there is none, and the delays are deterministic);
* an optional client-side `RateLimiter` (Coin Metrics community: 10 requests per 6 s per IP address);
* failures as :class:`hashrisk.errors.DataError` naming the source, the URL and, for a malformed payload, the
  record at fault (`PayloadError`).

``sleep`` and the clocks are injectable so that tests never really wait. Nothing here knows about a given
API; the connectors (`coinmetrics`, `mempool`, `blockchain_com`, `bitcoind`) bring the paths and parse the
payloads, using the shape helpers at the end of this module (`require_list`, `require_mapping`, `field_float`,
`field_int`, `field_str`).
"""

from __future__ import annotations

import collections
import datetime as dt
import email.utils
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import httpx
import numpy as np
import pandas as pd

from hashrisk.data.schema import loads_json
from hashrisk.errors import DataError, InputError

__all__ = [
    "COINMETRICS_COMMUNITY_RATE",
    "HttpClient",
    "HttpOptions",
    "HttpStatusError",
    "PayloadError",
    "RateLimiter",
    "RetryPolicy",
    "fetch_frame",
    "field_float",
    "field_int",
    "field_str",
    "open_client",
    "parse_retry_after",
    "require_list",
    "require_mapping",
    "source_meta",
]

SleepFn = Callable[[float], None]
ClockFn = Callable[[], float]
RngLike = int | np.random.Generator | None

USER_AGENT = "hashrisk (+https://github.com/hashrisk/hashrisk)"

COINMETRICS_COMMUNITY_RATE = (10, 6.0)
"""Coin Metrics community API limit: 10 requests per 6 s per IP address (docs.coinmetrics.io, API v4)."""


class PayloadError(DataError):
    """A response that is not the documented shape (bad JSON, missing field, wrong type).

    Parameters
    ----------
    source : str
        The data source (``"coinmetrics"``, ``"mempool"``, ...).
    url : str
        The URL that returned the payload.
    record : str
        Where in the payload the problem is (``"data[12].PriceUSD"``, ``"values[3]"``, ``"<body>"``).
    problem : str
        What is wrong, with the value received.
    """

    def __init__(self, source: str, url: str, record: str, problem: str) -> None:
        self.source = source
        self.url = url
        self.record = record
        self.problem = problem
        super().__init__(f"{source}: malformed response from {url} at {record}: {problem}")


class HttpStatusError(DataError):
    """The server answered a non-retryable HTTP error status (4xx), or 401/403 for refused access.

    Attributes
    ----------
    status : int
        The HTTP status code.
    url : str
        The URL (API keys hidden).
    """

    def __init__(self, message: str, status: int, url: str) -> None:
        super().__init__(message)
        self.status = status
        self.url = url


@dataclass(frozen=True)
class RetryPolicy:
    """When and how long to wait before trying a request again.

    The wait before retry ``k`` (``k = 0, 1, ...``) is ``min(backoff_max_s, backoff_base_s * 2**k)``, scaled
    by a jitter factor drawn uniformly from ``[1 - jitter, 1 + jitter]`` when a random generator is given. A
    ``Retry-After`` header replaces that wait, capped at ``retry_after_cap_s``.

    Attributes
    ----------
    max_attempts : int
        Total attempts including the first [requests], >= 1.
    backoff_base_s : float
        First backoff [s].
    backoff_max_s : float
        Largest backoff [s].
    retry_after_cap_s : float
        Largest wait honoured from a ``Retry-After`` header [s].
    jitter : float
        Relative half-width of the jitter [fraction], in [0, 1).
    retry_statuses : frozenset[int]
        HTTP statuses that are retried.
    """

    max_attempts: int = 5
    backoff_base_s: float = 0.5
    backoff_max_s: float = 30.0
    retry_after_cap_s: float = 120.0
    jitter: float = 0.25
    retry_statuses: frozenset[int] = field(default_factory=lambda: frozenset({429, 500, 502, 503, 504}))

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise InputError("max_attempts", self.max_attempts, "an integer >= 1")
        if not 0.0 <= self.jitter < 1.0:
            raise InputError("jitter", self.jitter, "a fraction in [0, 1)")
        for name in ("backoff_base_s", "backoff_max_s", "retry_after_cap_s"):
            value = getattr(self, name)
            if not value >= 0.0:
                raise InputError(name, value, "a duration >= 0 seconds")

    def backoff_s(self, retry: int, rng: np.random.Generator | None) -> float:
        """Wait before retry number `retry` (0-based) [s], jittered when `rng` is given."""
        delay = min(self.backoff_max_s, self.backoff_base_s * 2.0**retry)
        if rng is not None and self.jitter > 0.0:
            delay *= float(rng.uniform(1.0 - self.jitter, 1.0 + self.jitter))
        return min(delay, self.backoff_max_s)


def parse_retry_after(value: str | None, now_s: float) -> float | None:
    """Seconds to wait from a ``Retry-After`` header (RFC 9110 §10.2.3) [s], or None if absent or unreadable.

    Parameters
    ----------
    value : str or None
        The header: either delay-seconds (``"120"``) or an HTTP date (``"Wed, 21 Oct 2015 07:28:00 GMT"``).
    now_s : float
        Current Unix time [s], to turn a date into a delay.

    Returns
    -------
    float or None
        The delay [s], >= 0.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - now_s)


class RateLimiter:
    """Client-side sliding-window limit: at most `max_calls` requests in any `period_s` window.

    Parameters
    ----------
    max_calls : int
        Requests allowed per window [requests], >= 1.
    period_s : float
        Window length [s], > 0.
    clock : callable, optional
        Monotonic clock [s] (``time.monotonic``).
    sleep : callable, optional
        Sleep function [s] (``time.sleep``); tests pass one that advances a fake clock.
    """

    def __init__(
        self,
        max_calls: int,
        period_s: float,
        *,
        clock: ClockFn = time.monotonic,
        sleep: SleepFn = time.sleep,
    ) -> None:
        if max_calls < 1:
            raise InputError("max_calls", max_calls, "an integer >= 1")
        if not period_s > 0.0:
            raise InputError("period_s", period_s, "a duration > 0 seconds")
        self.max_calls = max_calls
        self.period_s = period_s
        self._clock = clock
        self._sleep = sleep
        self._calls: collections.deque[float] = collections.deque()

    def acquire(self) -> float:
        """Wait until one more request fits in the window, and record it.

        Returns
        -------
        float
            Time spent waiting [s].
        """
        waited = 0.0
        while True:
            now = self._clock()
            while self._calls and now - self._calls[0] >= self.period_s:
                self._calls.popleft()
            if len(self._calls) < self.max_calls:
                self._calls.append(now)
                return waited
            delay = self.period_s - (now - self._calls[0])
            self._sleep(delay)
            waited += delay


class HttpClient:
    """A retrying, rate-limited JSON client for one data source.

    Parameters
    ----------
    base_url : str
        Root of the API (``"https://mempool.space/api"``); relative paths are joined to it.
    source : str
        Name of the source, used in error messages and metadata.
    timeout_s : float, optional
        Per-request timeout (connect, read, write, pool) [s].
    auth : tuple of (str, str), optional
        HTTP basic-auth credentials (user, password).
    headers : mapping, optional
        Extra headers sent with every request.
    params : mapping, optional
        Query parameters sent with every request (for example ``{"api_key": KEY}``).
    retry : RetryPolicy, optional
        Retry and backoff settings.
    rate_limiter : RateLimiter, optional
        Client-side request limit (none by default).
    rng : int, numpy.random.Generator or None, optional
        Source of backoff jitter; None for none.
    sleep : callable, optional
        Sleep function [s] used for backoff (``time.sleep``).
    wall_clock : callable, optional
        Unix time [s], to read ``Retry-After`` dates (``time.time``).
    transport : httpx.BaseTransport, optional
        Custom transport (tests).
    """

    def __init__(
        self,
        base_url: str,
        *,
        source: str,
        timeout_s: float = 30.0,
        auth: tuple[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        retry: RetryPolicy | None = None,
        rate_limiter: RateLimiter | None = None,
        rng: RngLike = None,
        sleep: SleepFn = time.sleep,
        wall_clock: ClockFn = time.time,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise InputError("base_url", base_url, "an http:// or https:// URL")
        if not timeout_s > 0.0:
            raise InputError("timeout_s", timeout_s, "a duration > 0 seconds")
        self.base_url = base_url.rstrip("/")
        self.source = source
        self.retry = retry if retry is not None else RetryPolicy()
        self.rate_limiter = rate_limiter
        self._rng = None if rng is None else np.random.default_rng(rng)
        self._sleep = sleep
        self.wall_clock = wall_clock
        self._params = dict(params or {})
        self.requests_made = 0
        """Number of HTTP requests sent, retries included [requests]."""
        self.retries_made = 0
        """Number of retries [requests]."""
        all_headers = {"User-Agent": USER_AGENT, "Accept": "application/json"}
        all_headers.update(headers or {})
        self._client = httpx.Client(
            timeout=httpx.Timeout(timeout_s),
            auth=httpx.BasicAuth(*auth) if auth is not None else None,
            headers=all_headers,
            transport=transport,
            follow_redirects=True,
        )

    # -- context management -------------------------------------------------------------------------------
    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the underlying connection pool."""
        self._client.close()

    # -- requests -----------------------------------------------------------------------------------------
    def url_for(self, path_or_url: str) -> str:
        """Absolute URL of `path_or_url` (absolute URLs pass through, paths join the base URL)."""
        if path_or_url.startswith(("http://", "https://")):
            return path_or_url
        return f"{self.base_url}/{path_or_url.lstrip('/')}"

    def get_json(self, path_or_url: str, params: Mapping[str, Any] | None = None) -> Any:
        """GET a JSON document.

        Parameters
        ----------
        path_or_url : str
            Path under the base URL, or an absolute URL (for example a ``next_page_url``, which is fetched
            unmodified apart from the client's own parameters).
        params : mapping, optional
            Query parameters.

        Returns
        -------
        Any
            The decoded JSON.

        Raises
        ------
        DataError
            The server refused the credentials (401/403), answered another 4xx, kept failing after the
            retries, or returned a body that is not JSON (`PayloadError`).
        """
        response = self.request("GET", path_or_url, params=params)
        return self.decode_json(response)

    def post_json(self, path_or_url: str, payload: Any) -> Any:
        """POST a JSON body and decode the JSON answer (see `get_json` for the errors)."""
        response = self.request("POST", path_or_url, content=json.dumps(payload, separators=(",", ":")))
        return self.decode_json(response)

    def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Mapping[str, Any] | None = None,
        content: str | bytes | None = None,
    ) -> httpx.Response:
        """Send one request with rate limiting and retries; return the successful (2xx) response.

        Raises
        ------
        DataError
            See `get_json`.
        """
        url = self.url_for(path_or_url)
        merged: dict[str, Any] = dict(self._params)
        merged.update(params or {})
        # merge into the URL's own query: httpx would replace it (next_page_url tokens would be lost)
        full = httpx.URL(url).copy_merge_params(merged) if merged else httpx.URL(url)
        shown = _redact(str(full))
        headers = {"Content-Type": "application/json"} if content is not None else None
        policy = self.retry
        last_problem = "no attempt made"
        for attempt in range(policy.max_attempts):
            if self.rate_limiter is not None:
                self.rate_limiter.acquire()
            self.requests_made += 1
            wait_s: float | None = None
            try:
                response = self._client.request(method, full, content=content, headers=headers)
            except httpx.TimeoutException as exc:
                last_problem = f"timed out ({type(exc).__name__})"
            except httpx.TransportError as exc:
                last_problem = f"connection failed ({type(exc).__name__}: {exc})"
            else:
                status = response.status_code
                if 200 <= status < 300:
                    return response
                if status in (401, 403):
                    raise HttpStatusError(
                        f"{self.source}: {shown} answered HTTP {status}: access refused; check the "
                        f"user/password, cookie file or API key ({_snippet(response)})",
                        status,
                        shown,
                    )
                if status not in policy.retry_statuses:
                    raise HttpStatusError(
                        f"{self.source}: {shown} answered HTTP {status}: {_snippet(response)}", status, shown
                    )
                last_problem = f"HTTP {status}: {_snippet(response)}"
                retry_after = parse_retry_after(response.headers.get("Retry-After"), self.wall_clock())
                if retry_after is not None:
                    wait_s = min(retry_after, policy.retry_after_cap_s)
            if attempt + 1 >= policy.max_attempts:
                break
            if wait_s is None:
                wait_s = policy.backoff_s(attempt, self._rng)
            self.retries_made += 1
            self._sleep(wait_s)
        raise DataError(
            f"{self.source}: {method} {shown} failed after {policy.max_attempts} attempts; "
            f"last: {last_problem}"
        )

    def decode_json(self, response: httpx.Response) -> Any:
        """Decode a response body as JSON, or raise `PayloadError` naming the URL and the position."""
        url = str(response.request.url) if response.request is not None else "<unknown url>"
        try:
            return loads_json(response.content)
        except json.JSONDecodeError as exc:
            raise PayloadError(
                self.source,
                _redact(url),
                "<body>",
                f"not valid JSON ({exc.msg} at char {exc.pos} of {len(response.content)}; truncated?)",
            ) from None
        except UnicodeDecodeError as exc:
            raise PayloadError(
                self.source, _redact(url), "<body>", f"not UTF-8 text ({exc.reason})"
            ) from None
        except ValueError as exc:  # NaN, Infinity, 1e999
            raise PayloadError(self.source, _redact(url), "<body>", f"not valid JSON ({exc})") from None


@dataclass(frozen=True)
class HttpOptions:
    """How connectors build their `HttpClient` (one set of knobs for every source).

    Attributes
    ----------
    timeout_s : float
        Per-request timeout [s].
    retry : RetryPolicy or None
        Retry settings (None: `RetryPolicy()` defaults).
    rng : int, numpy.random.Generator or None
        Backoff jitter source; None for none.
    sleep : callable
        Sleep function [s]; tests pass a fast or recording one.
    wall_clock : callable
        Unix time [s] for ``Retry-After`` dates.
    clock : callable
        Monotonic clock [s] of the rate limiter (tests pair it with `sleep`).
    rate_limit : tuple of (int, float) or None
        ``(max_calls, period_s)`` client-side limit; None lets the connector choose its source's default.
    transport : httpx.BaseTransport or None
        Custom transport (tests).
    """

    timeout_s: float = 30.0
    retry: RetryPolicy | None = None
    rng: RngLike = None
    sleep: SleepFn = time.sleep
    wall_clock: ClockFn = time.time
    clock: ClockFn = time.monotonic
    rate_limit: tuple[int, float] | None = None
    transport: httpx.BaseTransport | None = None

    def make(
        self,
        base_url: str,
        source: str,
        *,
        auth: tuple[str, str] | None = None,
        params: Mapping[str, str] | None = None,
        default_rate_limit: tuple[int, float] | None = None,
    ) -> HttpClient:
        """A new `HttpClient` for `source` at `base_url` with these options."""
        limit = self.rate_limit if self.rate_limit is not None else default_rate_limit
        limiter = (
            None if limit is None else RateLimiter(limit[0], limit[1], clock=self.clock, sleep=self.sleep)
        )
        return HttpClient(
            base_url,
            source=source,
            timeout_s=self.timeout_s,
            auth=auth,
            params=params,
            retry=self.retry,
            rate_limiter=limiter,
            rng=self.rng,
            sleep=self.sleep,
            wall_clock=self.wall_clock,
            transport=self.transport,
        )


def source_meta(source: str, urls: list[str], client: HttpClient, **extra: Any) -> dict[str, Any]:
    """Provenance of a fetched frame: source, URLs (API keys hidden), time retrieved, request counts, extras.

    Returns
    -------
    dict
        ``{"source", "urls", "retrieved_at" (ISO 8601 UTC), "requests", "retries", **extra}``.
    """
    return {
        "source": source,
        "urls": [_redact(u) for u in urls],
        "retrieved_at": _iso_utc(client.wall_clock()),
        "requests": client.requests_made,
        "retries": client.retries_made,
        **extra,
    }


def open_client(
    source: str,
    base_url: str,
    client: HttpClient | None,
    options: HttpOptions | None,
    **make_kwargs: Any,
) -> tuple[HttpClient, bool]:
    """`client` if given (not owned by the caller), else a new one from `options` (owned: close it)."""
    if client is not None:
        return client, False
    return (options or HttpOptions()).make(base_url, source, **make_kwargs), True


def fetch_frame(
    source: str,
    path: str,
    parse: Callable[[Any, str, HttpClient], pd.DataFrame],
    *,
    base_url: str,
    client: HttpClient | None = None,
    options: HttpOptions | None = None,
    params: Mapping[str, Any] | None = None,
    **meta: Any,
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """GET one JSON document, parse it and attach provenance: the body of most ``get_*`` connectors.

    Parameters
    ----------
    source : str
        Source name (errors, metadata).
    path : str
        Path under `base_url` (or an absolute URL).
    parse : callable
        ``parse(payload, url, client) -> DataFrame``; raises `PayloadError` on a bad shape.
    base_url : str
        API root, used when `client` is None.
    client : HttpClient, optional
        An existing client (left open).
    options : HttpOptions, optional
        Options of a new client (closed afterwards).
    params : mapping, optional
        Query parameters.
    **meta
        Extra provenance (``license``, ``units``...).

    Returns
    -------
    frame : pandas.DataFrame
    meta : dict
        `source_meta` plus `meta`.
    """
    http, owned = open_client(source, base_url, client, options)
    try:
        url = http.url_for(path)
        frame = parse(http.get_json(path, params=params), url, http)
        return frame, source_meta(source, [url], http, **meta)
    finally:
        if owned:
            http.close()


def _iso_utc(unix_s: float) -> str:
    return dt.datetime.fromtimestamp(unix_s, tz=dt.UTC).isoformat(timespec="seconds")


def _snippet(response: httpx.Response, limit: int = 200) -> str:
    text = response.text.strip().replace("\n", " ")
    return text[:limit] + ("..." if len(text) > limit else "") if text else "(empty body)"


def _redact(url: str) -> str:
    """The URL with any ``api_key`` query value hidden (keys must not end up in logs or messages)."""
    parsed = httpx.URL(url)
    if "api_key" not in parsed.params:
        return url
    return str(parsed.copy_set_param("api_key", "***"))


# -- shape helpers shared by the connectors --------------------------------------------------------------
def require_mapping(value: Any, source: str, url: str, record: str) -> Mapping[str, Any]:
    """`value` as a JSON object, or `PayloadError`."""
    if not isinstance(value, Mapping):
        raise PayloadError(source, url, record, f"expected a JSON object, got {_kind(value)}")
    return value


def require_list(value: Any, source: str, url: str, record: str) -> list[Any]:
    """`value` as a JSON array, or `PayloadError`."""
    if not isinstance(value, list):
        raise PayloadError(source, url, record, f"expected a JSON array, got {_kind(value)}")
    return value


def _get(obj: Mapping[str, Any], key: str, source: str, url: str, record: str, optional: bool) -> Any:
    if key not in obj:
        if optional:
            return None
        raise PayloadError(source, url, f"{record}.{key}", "field is missing")
    return obj[key]


def field_float(
    obj: Mapping[str, Any], key: str, source: str, url: str, record: str, *, optional: bool = False
) -> float | None:
    """Field `key` of `obj` as a float (JSON numbers or numeric strings); None when null or optional-missing.

    Booleans, non-numeric strings and other types raise `PayloadError`.
    """
    value = _get(obj, key, source, url, record, optional)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise PayloadError(source, url, f"{record}.{key}", f"expected a number, got {_kind(value)}")
    try:
        return float(value)
    except ValueError:
        raise PayloadError(source, url, f"{record}.{key}", f"expected a number, got {value!r}") from None


def field_int(
    obj: Mapping[str, Any], key: str, source: str, url: str, record: str, *, optional: bool = False
) -> int | None:
    """Field `key` of `obj` as an int (integral numbers or digit strings); None if null or optional-absent."""
    value = _get(obj, key, source, url, record, optional)
    if value is None:
        return None
    if isinstance(value, bool):
        raise PayloadError(source, url, f"{record}.{key}", f"expected an integer, got {_kind(value)}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    raise PayloadError(source, url, f"{record}.{key}", f"expected an integer, got {value!r}")


def field_str(
    obj: Mapping[str, Any], key: str, source: str, url: str, record: str, *, optional: bool = False
) -> str | None:
    """Field `key` of `obj` as a string; None when null or optional-missing."""
    value = _get(obj, key, source, url, record, optional)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(source, url, f"{record}.{key}", f"expected a string, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {value!r}"
    if isinstance(value, Mapping):
        return "an object"
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return f"string {value[:40]!r}"
    return f"{type(value).__name__} {value!r}"
