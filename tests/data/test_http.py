"""The shared HTTP layer: retries, backoff, Retry-After, rate limiting, error messages (127.0.0.1 only)."""

from __future__ import annotations

import email.utils
from collections.abc import Iterator

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from servers import Reply, RouteServer

from hashrisk.data.http import (
    HttpClient,
    HttpOptions,
    HttpStatusError,
    PayloadError,
    RateLimiter,
    RetryPolicy,
    field_float,
    field_int,
    field_str,
    parse_retry_after,
    require_list,
)
from hashrisk.errors import DataError, InputError


class FakeClock:
    """A clock that only moves when something sleeps on it."""

    def __init__(self, start: float = 1_000.0) -> None:
        self.t = start
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds


@pytest.fixture()
def srv() -> Iterator[RouteServer]:
    with RouteServer() as server:
        yield server


def client(server: RouteServer, clock: FakeClock, **kwargs: object) -> HttpClient:
    options = {"source": "test", "sleep": clock.sleep, "wall_clock": clock, "timeout_s": 2.0}
    options.update(kwargs)
    return HttpClient(server.url, **options)  # type: ignore[arg-type]


def test_get_json_ok(srv: RouteServer) -> None:
    srv.json("/a", {"x": 1})
    clock = FakeClock()
    with client(srv, clock) as http:
        assert http.get_json("/a", params={"q": "1"}) == {"x": 1}
        assert http.requests_made == 1
    assert srv.hits("/a")[0].query == {"q": ["1"]}
    assert clock.sleeps == []


def test_429_retry_after_seconds_is_honoured(srv: RouteServer) -> None:
    srv.route("/a", Reply(429, {"error": "slow down"}, {"Retry-After": "7"}), Reply(200, [1]))
    clock = FakeClock()
    with client(srv, clock) as http:
        assert http.get_json("/a") == [1]
        assert http.retries_made == 1
    assert clock.sleeps == [7.0]
    assert len(srv.hits("/a")) == 2


def test_429_retry_after_http_date(srv: RouteServer) -> None:
    clock = FakeClock(start=1_700_000_000.0)
    when = email.utils.formatdate(clock.t + 12, usegmt=True)
    srv.route("/a", Reply(429, b"", {"Retry-After": when}), Reply(200, {"ok": True}))
    with client(srv, clock) as http:
        assert http.get_json("/a") == {"ok": True}
    assert clock.sleeps == [pytest.approx(12.0)]


def test_retry_after_is_capped(srv: RouteServer) -> None:
    srv.route("/a", Reply(503, b"busy", {"Retry-After": "86400"}), Reply(200, {}))
    clock = FakeClock()
    with client(srv, clock, retry=RetryPolicy(retry_after_cap_s=30.0)) as http:
        http.get_json("/a")
    assert clock.sleeps == [30.0]


def test_500_then_success_uses_exponential_backoff(srv: RouteServer) -> None:
    srv.route("/a", Reply(500, b"oops"), Reply(502, b"bad gateway"), Reply(200, {"v": 2}))
    clock = FakeClock()
    with client(srv, clock, retry=RetryPolicy(backoff_base_s=0.5)) as http:
        assert http.get_json("/a") == {"v": 2}
    assert clock.sleeps == [0.5, 1.0]


def test_jitter_comes_from_the_rng_and_is_reproducible(srv: RouteServer) -> None:
    sleeps = []
    for _ in range(2):
        srv.route("/a", Reply(500), Reply(500), Reply(500), Reply(200, {}))
        clock = FakeClock()
        with client(srv, clock, rng=42, retry=RetryPolicy(backoff_base_s=1.0, jitter=0.25)) as http:
            http.get_json("/a")
        sleeps.append(clock.sleeps)
    assert sleeps[0] == sleeps[1]
    for k, s in enumerate(sleeps[0]):
        assert 0.75 * 2**k <= s <= 1.25 * 2**k
    assert sleeps[0] != [1.0, 2.0, 4.0]


def test_backoff_is_bounded() -> None:
    policy = RetryPolicy(backoff_base_s=1.0, backoff_max_s=5.0, jitter=0.5)
    rng = np.random.default_rng(0)
    assert all(policy.backoff_s(k, rng) <= 5.0 for k in range(20))


def test_gives_up_after_max_attempts(srv: RouteServer) -> None:
    srv.route("/a", Reply(503, b"down"))
    clock = FakeClock()
    with client(srv, clock, retry=RetryPolicy(max_attempts=3)) as http, pytest.raises(DataError) as err:
        http.get_json("/a")
    assert "failed after 3 attempts" in str(err.value)
    assert "HTTP 503" in str(err.value)
    assert "test:" in str(err.value)
    assert len(clock.sleeps) == 2


def test_timeout_is_retried_then_succeeds(srv: RouteServer) -> None:
    srv.route("/slow", Reply(200, {"late": True}, delay_s=1.0), Reply(200, {"late": False}))
    clock = FakeClock()
    with client(srv, clock, timeout_s=0.2) as http:
        assert http.get_json("/slow") == {"late": False}
    assert len(clock.sleeps) == 1


def test_timeout_every_time_is_a_clear_error(srv: RouteServer) -> None:
    srv.route("/slow", Reply(200, {}, delay_s=0.6))
    clock = FakeClock()
    with (
        client(srv, clock, timeout_s=0.15, retry=RetryPolicy(max_attempts=2)) as http,
        pytest.raises(DataError, match="timed out"),
    ):
        http.get_json("/slow")


def test_connection_refused_is_a_clear_error() -> None:
    with RouteServer() as server:
        url = server.url
    clock = FakeClock()
    http = HttpClient(url, source="test", sleep=clock.sleep, retry=RetryPolicy(max_attempts=2))
    with http, pytest.raises(DataError, match="connection failed"):
        http.get_json("/a")


def test_truncated_json_is_a_payload_error_and_not_retried(srv: RouteServer) -> None:
    srv.route("/a", Reply(200, b'{"values": [{"x": 1, "y": 2}, {"x": 2,'))
    clock = FakeClock()
    with client(srv, clock) as http, pytest.raises(PayloadError) as err:
        http.get_json("/a")
    message = str(err.value)
    assert "test:" in message and f"{srv.url}/a" in message and "<body>" in message
    assert "truncated" in message
    assert len(srv.hits("/a")) == 1


def test_client_errors_are_not_retried(srv: RouteServer) -> None:
    srv.route("/missing", Reply(404, {"error": "no such chart"}))
    clock = FakeClock()
    with client(srv, clock) as http, pytest.raises(HttpStatusError) as err:
        http.get_json("/missing")
    assert err.value.status == 404
    assert "no such chart" in str(err.value)
    assert clock.sleeps == []


def test_401_says_the_credentials_were_refused(srv: RouteServer) -> None:
    srv.route("/a", Reply(401, b""))
    with client(srv, FakeClock(), auth=("u", "p")) as http, pytest.raises(DataError, match="access refused"):
        http.get_json("/a")
    assert srv.hits("/a")[0].headers["Authorization"].startswith("Basic ")


def test_api_key_is_sent_but_never_shown(srv: RouteServer) -> None:
    srv.route("/a", Reply(400, {"error": {"type": "bad_parameter"}}))
    with client(srv, FakeClock(), params={"api_key": "SECRET"}) as http, pytest.raises(DataError) as err:
        http.get_json("/a")
    assert srv.hits("/a")[0].query["api_key"] == ["SECRET"]
    assert "SECRET" not in str(err.value)
    assert "api_key=%2A%2A%2A" in str(err.value) or "api_key=***" in str(err.value)


def test_absolute_urls_pass_through(srv: RouteServer) -> None:
    srv.json("/next", {"page": 2})
    with HttpClient("http://127.0.0.1:9/unused", source="t") as http:
        assert http.get_json(f"{srv.url}/next") == {"page": 2}


def test_rate_limiter_sliding_window() -> None:
    clock = FakeClock(start=0.0)
    limiter = RateLimiter(10, 6.0, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(35):
        limiter.acquire()
        times.append(clock.t)
    assert times[:10] == [0.0] * 10
    assert all(times[i + 10] - times[i] >= 6.0 - 1e-9 for i in range(len(times) - 10))
    assert times[-1] == pytest.approx(18.0)


def test_rate_limit_applies_to_requests(srv: RouteServer) -> None:
    srv.json("/a", {})
    clock = FakeClock(start=0.0)
    opts = HttpOptions(sleep=clock.sleep, clock=clock, wall_clock=clock, rate_limit=(2, 1.0))
    with opts.make(srv.url, "test") as http:
        for _ in range(5):
            http.get_json("/a")
    assert clock.t == pytest.approx(2.0)


@given(st.integers(min_value=0, max_value=10**6))
def test_retry_after_seconds_parse(seconds: int) -> None:
    assert parse_retry_after(str(seconds), now_s=0.0) == float(seconds)


def test_retry_after_parse_edge_cases() -> None:
    assert parse_retry_after(None, 0.0) is None
    assert parse_retry_after("", 0.0) is None
    assert parse_retry_after("soon", 0.0) is None
    past = email.utils.formatdate(1_000.0, usegmt=True)
    assert parse_retry_after(past, now_s=2_000.0) == 0.0


def test_shape_helpers_name_the_record() -> None:
    obj = {"a": "1.5", "b": True, "c": "x", "d": 3.0, "e": None}
    assert field_float(obj, "a", "s", "u", "r") == 1.5
    assert field_int(obj, "d", "s", "u", "r") == 3
    assert field_float(obj, "e", "s", "u", "r") is None
    assert field_float(obj, "zz", "s", "u", "r", optional=True) is None
    with pytest.raises(PayloadError, match=r"at r\.b: expected a number, got boolean True"):
        field_float(obj, "b", "s", "u", "r")
    with pytest.raises(PayloadError, match=r"r\.c: expected a number"):
        field_float(obj, "c", "s", "u", "r")
    with pytest.raises(PayloadError, match=r"r\.zz: field is missing"):
        field_int(obj, "zz", "s", "u", "r")
    with pytest.raises(PayloadError, match="expected a string"):
        field_str(obj, "d", "s", "u", "r")
    with pytest.raises(PayloadError, match="expected a JSON array, got an object"):
        require_list({}, "s", "u", "values")


def test_bad_settings_are_input_errors() -> None:
    with pytest.raises(InputError):
        RetryPolicy(max_attempts=0)
    with pytest.raises(InputError):
        RateLimiter(0, 1.0)
    with pytest.raises(InputError):
        HttpClient("ftp://x", source="t")
