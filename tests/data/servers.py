"""Local HTTP servers for the connector tests and benchmarks (127.0.0.1 only, never the internet).

* `RouteServer`: a threaded HTTP server with a scriptable route table. Each path maps to a queue of `Reply`
  objects (the last one repeats) or to a handler function; every request is recorded.
* `RpcChainServer`: a Bitcoin Core-like JSON-RPC server holding a small synthetic chain that can be reorged.
  It answers single and batched calls (JSON-RPC 1.0 and 2.0 shapes), checks HTTP basic auth
  (user/password or the ``__cookie__`` cookie), and precomputes its JSON answers so that it is fast enough
  for the sync benchmark. With `bodies` it also answers ``getblock <hash> 2`` with transactions in Bitcoin
  Core's verbosity-2 shape (`BlockBody`: the test or benchmark supplies the ``tx`` array).
* `FastRpcServer`: the same chain behind a minimal keep-alive HTTP/1.1 server on plain sockets (one thread
  per connection): a ``getblock`` answer goes out as its pre-serialised pieces (``socket.sendall`` on each,
  never joined), so that the coinbase-flow benchmark measures the client rather than the stand-in.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from hashrisk.chain.pow import bits_to_difficulty, bits_to_target
from hashrisk.chain.subsidy import block_subsidy_sats


@dataclass
class Reply:
    """One scripted HTTP answer.

    ``body`` may be bytes, a str or any JSON-serialisable value; ``delay_s`` sleeps before answering (to
    provoke client timeouts).
    """

    status: int = 200
    body: Any = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay_s: float = 0.0

    def payload(self) -> bytes:
        if isinstance(self.body, bytes):
            return self.body
        if isinstance(self.body, str):
            return self.body.encode()
        return json.dumps(self.body).encode()


@dataclass
class Request:
    """A request the server received."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


Handler = Callable[[Request], Reply]


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def handle_error(self, request: Any, client_address: Any) -> None:  # client gave up (timeout tests)
        pass


class _Base:
    """Start/stop plumbing shared by both servers."""

    _server: _QuietServer

    def _start(self, handler_cls: type[BaseHTTPRequestHandler]) -> None:
        self._server = _QuietServer(("127.0.0.1", 0), handler_cls)
        self._server.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05})
        self._thread.daemon = True
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)


class _RouteHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True  # headers and body go out in separate writes

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _serve(self) -> None:
        owner: RouteServer = self.server.owner  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        parts = urlsplit(self.path)
        request = Request(self.command, parts.path, parse_qs(parts.query), dict(self.headers.items()), body)
        reply = owner.dispatch(request)
        if reply.delay_s:
            time.sleep(reply.delay_s)
        payload = reply.payload()
        try:
            self.send_response(reply.status)
            headers = {"Content-Type": "application/json", **reply.headers}
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except (BrokenPipeError, ConnectionResetError):
            pass

    do_GET = _serve  # noqa: N815 (http.server's naming)
    do_POST = _serve  # noqa: N815


class RouteServer(_Base):
    """Threaded HTTP server on 127.0.0.1 with a scriptable route table.

    Examples
    --------
    >>> with RouteServer() as srv:                                    # doctest: +SKIP
    ...     srv.route("/charts/hash-rate", Reply(429, headers={"Retry-After": "1"}), Reply(200, {...}))
    """

    def __init__(self) -> None:
        self.routes: dict[str, list[Reply] | Handler] = {}
        self.requests: list[Request] = []
        self._lock = threading.Lock()
        self._start(_RouteHandler)

    def __enter__(self) -> RouteServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def route(self, path: str, *replies: Reply | Handler) -> None:
        """Answer `path` with `replies` in turn (the last repeats), or with a handler function."""
        if len(replies) == 1 and callable(replies[0]) and not isinstance(replies[0], Reply):
            self.routes[path] = replies[0]
        else:
            self.routes[path] = [r for r in replies if isinstance(r, Reply)]

    def json(self, path: str, obj: Any, status: int = 200) -> None:
        """Answer `path` with `obj` as JSON."""
        self.route(path, Reply(status, obj))

    def hits(self, path: str) -> list[Request]:
        """Requests received for `path`."""
        return [r for r in self.requests if r.path == path]

    def dispatch(self, request: Request) -> Reply:
        with self._lock:
            self.requests.append(request)
            target = self.routes.get(request.path)
            if target is None:
                return Reply(404, {"error": f"no route {request.path}"})
            if callable(target):
                handler = target
            else:
                reply = target[0] if len(target) == 1 else target.pop(0)
                return reply
        return handler(request)


# -- the synthetic chain -------------------------------------------------------------------------------
GENESIS_TIME = 1_700_000_000
"""Unix time of the synthetic chain's block 0 [s] (2023-11-14)."""
BITS_BY_PERIOD = (0x17034219, 0x170331DB, 0x17030ECD)
"""Realistic mainnet nBits values (2024), cycled per 2016-block period."""
BLOCKSTATS_FIELDS = ("height", "blockhash", "time", "mediantime", "subsidy", "totalfee", "txs")


def _hash(salt: str, height: int) -> str:
    return hashlib.sha256(f"{salt}:{height}".encode()).hexdigest()


@dataclass
class BlockBody:
    """The transactions of one synthetic block: their count, their fees, and the JSON text of the ``tx``
    array of ``getblock <hash> 2`` (made on demand, so long chains of full blocks need no memory)."""

    n_tx: int
    fees_sats: int
    tx_json: Callable[[], str | bytes]
    tx_parts: Callable[[], tuple[bytes, ...]] | None = None
    """Optional: the same text as pieces (shared pre-serialised bytes, sent without joining by
    `FastRpcServer`)."""

    def parts(self) -> tuple[bytes, ...]:
        if self.tx_parts is not None:
            return self.tx_parts()
        txs = self.tx_json()
        return (txs if isinstance(txs, bytes) else txs.encode(),)


BodyMaker = Callable[[int, str], BlockBody]
"""``(height, salt) -> BlockBody``: a chain's block contents (salt tells branches apart)."""


@dataclass
class SyntheticBlock:
    """One block of the synthetic chain, with its precomputed JSON answers."""

    height: int
    hash: str
    prev: str | None
    time: int
    mediantime: int
    bits: int
    chainwork: int
    fees_sats: int
    txs: int
    header_json: str = ""
    stats_json: str = ""
    body: BlockBody | None = None

    def header(self, tip: int) -> dict[str, Any]:
        out: dict[str, Any] = {
            "hash": self.hash,
            "confirmations": tip - self.height + 1,
            "height": self.height,
            "version": 0x20000000,
            "versionHex": "20000000",
            "merkleroot": _hash("merkle", self.height),
            "time": self.time,
            "mediantime": self.mediantime,
            "nonce": self.height * 7919 % 2**32,
            "bits": f"{self.bits:08x}",
            "difficulty": bits_to_difficulty(self.bits),
            "chainwork": f"{self.chainwork:064x}",
            "nTx": self.txs,
        }
        if self.prev is not None:
            out["previousblockhash"] = self.prev
        return out

    def stats(self) -> dict[str, Any]:
        return {
            "height": self.height,
            "blockhash": self.hash,
            "time": self.time,
            "mediantime": self.mediantime,
            "subsidy": block_subsidy_sats(self.height),
            "totalfee": self.fees_sats,
            "txs": self.txs,
        }


class RpcError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class _RpcHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def _send(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def do_POST(self) -> None:
        owner: RpcChainServer = self.server.owner  # type: ignore[attr-defined]
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        owner.http_requests += 1
        if not owner.check_auth(self.headers.get("Authorization")):
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="jsonrpc"')
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        status, payload = owner.handle_body(body)
        owner.after_request()
        self._send(status, payload)


class RpcChainServer(_Base):
    """A Bitcoin Core-like JSON-RPC server over a synthetic chain of `n_blocks` blocks (heights 0..n-1).

    Parameters
    ----------
    n_blocks : int
        Chain length [blocks].
    chain : str
        What ``getblockchaininfo.chain`` reports (``"main"``, ``"test"``, ``"regtest"``...).
    user, password : str, optional
        Accepted basic-auth credentials.
    cookie : str, optional
        Accepted cookie password (user ``__cookie__``).
    salt : str
        Seed of the block hashes (different salts give different chains).
    """

    def __init__(
        self,
        n_blocks: int,
        *,
        chain: str = "main",
        user: str | None = "alice",
        password: str | None = "s3cret",
        cookie: str | None = None,
        salt: str = "main",
        bodies: BodyMaker | None = None,
    ) -> None:
        self.chain = chain
        self.bodies = bodies
        self.credentials: set[tuple[str, str]] = set()
        if user is not None and password is not None:
            self.credentials.add((user, password))
        if cookie is not None:
            self.credentials.add(("__cookie__", cookie))
        self.blocks: list[SyntheticBlock] = []
        self.by_hash: dict[str, SyntheticBlock] = {}
        self.calls: dict[str, int] = {}
        self.http_requests = 0
        self.max_batch = 0
        self._scheduled: tuple[int, int, int] | None = None
        self._lock = threading.Lock()
        self._extend(n_blocks, salt)
        self._start(_RpcHandler)

    def __enter__(self) -> RpcChainServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- chain building ----------------------------------------------------------------------------------
    @property
    def tip(self) -> int:
        return len(self.blocks) - 1

    def _extend(self, count: int, salt: str) -> None:
        for _ in range(count):
            height = len(self.blocks)
            prev = self.blocks[-1] if self.blocks else None
            bits = BITS_BY_PERIOD[(height // 2016) % len(BITS_BY_PERIOD)]
            work = (1 << 256) // (bits_to_target(bits) + 1)
            t = GENESIS_TIME + 600 * height + (height * 7 % 13) * 17 - 100
            times = sorted([b.time for b in self.blocks[-10:]] + [t])
            body = self.bodies(height, salt) if self.bodies is not None else None
            block = SyntheticBlock(
                height=height,
                hash=_hash(salt, height),
                prev=prev.hash if prev else None,
                time=t,
                mediantime=times[len(times) // 2],
                bits=bits,
                chainwork=(prev.chainwork if prev else 0) + work,
                fees_sats=1_000_000 + (int(_hash(salt + "fee", height)[:6], 16) % 50_000_000),
                txs=1 + int(_hash(salt + "tx", height)[:4], 16) % 5000,
                body=body,
            )
            if body is not None:
                block.fees_sats, block.txs = body.fees_sats, body.n_tx
            block.stats_json = json.dumps(block.stats(), separators=(",", ":"))
            header = block.header(0)
            del header["confirmations"]  # the one field that changes with the tip; left out
            block.header_json = json.dumps(header, separators=(",", ":"))
            self.blocks.append(block)
            self.by_hash[block.hash] = block

    def reorg(self, depth: int, extra: int = 0, salt: str = "fork") -> None:
        """Replace the last `depth` blocks by a competing branch, `extra` blocks longer."""
        with self._lock:
            for block in self.blocks[-depth:]:
                del self.by_hash[block.hash]
            del self.blocks[-depth:]
            self._extend(depth + extra, salt)

    def schedule_reorg(self, after_requests: int, depth: int, extra: int = 0) -> None:
        """Reorganise (see `reorg`) right after answering HTTP request number `after_requests`."""
        self._scheduled = (after_requests, depth, extra)

    def after_request(self) -> None:
        if self._scheduled is not None and self.http_requests >= self._scheduled[0]:
            _, depth, extra = self._scheduled
            self._scheduled = None
            self.reorg(depth, extra, salt="midsync")

    def mine(self, count: int, salt: str = "main") -> None:
        """Append `count` blocks."""
        with self._lock:
            self._extend(count, salt)

    # -- protocol ----------------------------------------------------------------------------------------
    def check_auth(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            user, _, password = base64.b64decode(header[6:]).decode().partition(":")
        except (ValueError, UnicodeDecodeError):
            return False
        return (user, password) in self.credentials

    def handle_body(self, body: bytes) -> tuple[int, bytes]:
        try:
            request = json.loads(body)
        except json.JSONDecodeError:
            return 500, b'{"result":null,"error":{"code":-32700,"message":"Parse error"},"id":null}'
        with self._lock:
            if isinstance(request, list):
                self.max_batch = max(self.max_batch, len(request))
                parts = [self._answer(item) for item in request]
                return 200, b"[" + b",".join(p for _, p in parts) + b"]"
            return self._answer(request)

    def _answer(self, item: Any) -> tuple[int, bytes]:
        version2 = isinstance(item, dict) and item.get("jsonrpc") == "2.0"
        req_id = json.dumps(item.get("id") if isinstance(item, dict) else None)
        try:
            if not isinstance(item, dict) or not isinstance(item.get("method"), str):
                raise RpcError(-32600, "Invalid Request object")
            method = item["method"]
            self.calls[method] = self.calls.get(method, 0) + 1
            result = self._call(method, item.get("params") or [])
        except RpcError as err:
            error = json.dumps({"code": err.code, "message": err.message})
            status = 404 if err.code == -32601 else 500
            if version2:
                return 200, f'{{"jsonrpc":"2.0","error":{error},"id":{req_id}}}'.encode()
            return status, f'{{"result":null,"error":{error},"id":{req_id}}}'.encode()
        body = result if isinstance(result, bytes) else result.encode()
        if version2:
            return 200, b'{"jsonrpc":"2.0","result":' + body + b',"id":' + req_id.encode() + b"}"
        return 200, b'{"result":' + body + b',"error":null,"id":' + req_id.encode() + b"}"

    def _block_at(self, params: list[Any]) -> SyntheticBlock:
        if not params:
            raise RpcError(-1, "missing argument")
        key = params[0]
        if isinstance(key, int) and not isinstance(key, bool):
            if not 0 <= key <= self.tip:
                raise RpcError(-8, "Block height out of range")
            return self.blocks[key]
        if isinstance(key, str) and key in self.by_hash:
            return self.by_hash[key]
        raise RpcError(-5, "Block not found")

    def _call(self, method: str, params: list[Any]) -> str | bytes:
        """The JSON text of the result of `method` (getblock: bytes, pre-serialised transactions joined)."""
        if method == "getblockchaininfo":
            tip = self.blocks[-1]
            return json.dumps(
                {
                    "chain": self.chain,
                    "blocks": self.tip,
                    "headers": self.tip,
                    "bestblockhash": tip.hash,
                    "difficulty": bits_to_difficulty(tip.bits),
                    "time": tip.time,
                    "mediantime": tip.mediantime,
                    "verificationprogress": 1.0,
                    "initialblockdownload": False,
                    "chainwork": f"{tip.chainwork:064x}",
                    "size_on_disk": 1000 * len(self.blocks),
                    "pruned": False,
                    "warnings": [],
                }
            )
        if method == "getblockcount":
            return str(self.tip)
        if method == "getblockhash":
            return f'"{self._block_at(params).hash}"'
        if method == "getblockheader":
            if not params or not isinstance(params[0], str):
                raise RpcError(-8, "hash must be a hexadecimal string")
            return self._block_at(params).header_json
        if method == "getblockstats":
            block = self._block_at(params)
            wanted = params[1] if len(params) > 1 else None
            if wanted is None or tuple(wanted) == BLOCKSTATS_FIELDS:
                return block.stats_json
            stats = block.stats()
            unknown = [w for w in wanted if w not in stats]
            if unknown:
                raise RpcError(-8, f"Invalid selected statistic '{unknown[0]}'")
            return json.dumps({k: stats[k] for k in wanted})
        if method == "getblock":
            if not params or not isinstance(params[0], str):
                raise RpcError(-8, "hash must be a hexadecimal string")
            block = self._block_at(params)
            verbosity = params[1] if len(params) > 1 else 1
            if verbosity != 2 or block.body is None:
                raise RpcError(-8, "this stand-in answers getblock only with verbosity 2 and block bodies")
            return b"".join(self.getblock_parts(block))
        raise RpcError(-32601, "Method not found")

    def getblock_parts(self, block: SyntheticBlock) -> list[bytes]:
        """The JSON text of ``getblock <hash> 2`` for `block` (which has a body), in pieces."""
        assert block.body is not None
        head = block.header(self.tip)
        head.update({"strippedsize": 0, "size": 0, "weight": 0})
        return [
            json.dumps(head, separators=(",", ":"))[:-1].encode() + b',"tx":',
            *block.body.parts(),
            b"}",
        ]


class FastRpcServer:
    """`chain`'s JSON-RPC answers from a minimal keep-alive HTTP/1.1 server on plain sockets (127.0.0.1).

    A batch of one ``getblock <hash> 2`` call is answered with the block's pieces (`RpcChainServer.
    getblock_parts`: shared pre-serialised bytes) written with ``socket.sendall`` one by one, small pieces
    coalesced, with a ``Content-Length``; every other request goes to ``chain.handle_body``. One thread per
    connection; nothing is parsed beyond the request line, ``Content-Length`` and ``Authorization``.
    """

    SMALL = 1 << 16

    def __init__(self, chain: RpcChainServer) -> None:
        self.chain = chain
        self._listener = socket.create_server(("127.0.0.1", 0))
        self._thread = threading.Thread(target=self._accept, daemon=True)
        self._thread.start()

    @property
    def url(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"http://{host}:{port}"

    def __enter__(self) -> FastRpcServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        with contextlib.suppress(OSError):
            self._listener.shutdown(socket.SHUT_RDWR)
        self._listener.close()
        self._thread.join(timeout=5)

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self._listener.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _answer(self, body: bytes) -> tuple[int, list[bytes]]:
        chain = self.chain
        try:
            request = json.loads(body)
        except json.JSONDecodeError:
            request = None
        if isinstance(request, list) and len(request) == 1 and isinstance(request[0], dict):
            item = request[0]
            params = item.get("params")
            block = (
                chain.by_hash.get(params[0])
                if item.get("method") == "getblock"
                and isinstance(params, list)
                and len(params) == 2
                and params[1] == 2
                and isinstance(params[0], str)
                else None
            )
            if block is not None and block.body is not None:
                with chain._lock:
                    chain.calls["getblock"] = chain.calls.get("getblock", 0) + 1
                    parts = chain.getblock_parts(block)
                req_id = json.dumps(item.get("id")).encode()
                if item.get("jsonrpc") == "2.0":
                    return 200, [b'[{"jsonrpc":"2.0","result":', *parts, b',"id":' + req_id + b"}]"]
                return 200, [b'[{"result":', *parts, b',"error":null,"id":' + req_id + b"}]"]
        status, payload = chain.handle_body(body)
        return status, [payload]

    def _serve(self, conn: socket.socket) -> None:
        chain = self.chain
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        buf = b""
        with conn:
            try:
                while True:
                    while b"\r\n\r\n" not in buf:
                        chunk = conn.recv(1 << 16)
                        if not chunk:
                            return
                        buf += chunk
                    head, _, buf = buf.partition(b"\r\n\r\n")
                    headers = {}
                    for line in head.split(b"\r\n")[1:]:
                        key, _, value = line.partition(b":")
                        headers[key.strip().lower()] = value.strip()
                    length = int(headers.get(b"content-length", b"0"))
                    while len(buf) < length:
                        chunk = conn.recv(max(1 << 16, length - len(buf)))
                        if not chunk:
                            return
                        buf += chunk
                    body, buf = buf[:length], buf[length:]
                    chain.http_requests += 1
                    auth = headers.get(b"authorization")
                    if not chain.check_auth(auth.decode() if auth is not None else None):
                        conn.sendall(
                            b'HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm="jsonrpc"\r\n'
                            b"Content-Length: 0\r\n\r\n"
                        )
                        continue
                    status, parts = self._answer(body)
                    chain.after_request()
                    size = sum(len(p) for p in parts)
                    reason = {200: b"OK", 404: b"Not Found"}.get(status, b"Internal Server Error")
                    small = [
                        b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n"
                        % (status, reason, size)
                    ]
                    for part in parts:  # small pieces coalesced, large ones sent as they are (no copy)
                        if len(part) < self.SMALL:
                            small.append(part)
                            continue
                        conn.sendall(b"".join(small))
                        small = []
                        conn.sendall(part)
                    if small:
                        conn.sendall(b"".join(small))
            except (ConnectionError, OSError):
                return


# -- verbosity-2 transactions (Bitcoin Core's getblock <hash> 2 shapes) ----------------------------------------
def txid_of(*parts: object) -> str:
    """A deterministic 64-hex txid."""
    return hashlib.sha256(":".join(map(str, parts)).encode()).hexdigest()


def vout_json(n: int, value_sats: int, address: str | None) -> dict[str, Any]:
    """One output: ``value`` in BTC (8 decimals), ``scriptPubKey`` with ``address`` (absent for OP_RETURN)."""
    spk: dict[str, Any]
    if address is None:
        spk = {
            "asm": "OP_RETURN aa21a9ed",
            "desc": "raw(6a24aa21a9ed)#00000000",
            "hex": "6a24aa21a9ed",
            "type": "nulldata",
        }
    else:
        spk = {
            "asm": "0 00",
            "desc": f"addr({address})#00000000",
            "hex": "0014" + "00" * 20,
            "address": address,
            "type": "witness_v0_keyhash",
        }
    return {"value": round(value_sats / 1e8, 8), "n": n, "scriptPubKey": spk}


def coinbase_json(txid: str, height: int, tag: str, outputs: list[tuple[int, str | None]]) -> dict[str, Any]:
    """A coinbase transaction: BIP34 height push then `tag` in the scriptSig; `outputs` (sats, address)."""
    push = height.to_bytes((height.bit_length() + 8) // 8 or 1, "little")
    script = (bytes([len(push)]) + push + tag.encode()).hex()
    return {
        "txid": txid,
        "hash": txid,
        "version": 2,
        "size": 200,
        "vsize": 173,
        "weight": 692,
        "locktime": 0,
        "vin": [{"coinbase": script, "txinwitness": ["00" * 32], "sequence": 4294967295}],
        "vout": [vout_json(n, v, a) for n, (v, a) in enumerate(outputs)],
        "hex": "02000000" + script,
    }


def tx_json(
    txid: str,
    inputs: list[tuple[str, int]],
    outputs: list[tuple[int, str | None]],
    fee_sats: int,
    hex_chars: int = 0,
) -> dict[str, Any]:
    """A non-coinbase transaction spending `inputs` (txid, vout) to `outputs` (sats, address)."""
    return {
        "txid": txid,
        "hash": txid,
        "version": 2,
        "size": 222,
        "vsize": 141,
        "weight": 561,
        "locktime": 0,
        "vin": [
            {
                "txid": t,
                "vout": v,
                "scriptSig": {"asm": "", "hex": ""},
                "txinwitness": ["30" * 71, "02" * 33],
                "sequence": 4294967293,
            }
            for t, v in inputs
        ],
        "vout": [vout_json(n, v, a) for n, (v, a) in enumerate(outputs)],
        "fee": round(fee_sats / 1e8, 8),
        "hex": "0" * hex_chars,
    }


# -- a small chain with pools and coinbase flows (CLI, report and web tests) -----------------------------------
ONCHAIN_POOLS = (
    ("/Foundry USA Pool/", "bc1qfoundrypayout0000000000000000000000", "Foundry USA"),
    ("Mined by AntPool", "bc1qantpoolpayout0000000000000000000000", "AntPool"),
    ("MARA Pool", "bc1qmarapayout000000000000000000000000000", "MARA Pool"),
    ("/nobody/", "bc1qunknownpayout0000000000000000000000", "unknown"),
)
"""height % 4 -> (coinbase tag, payout address, expected pool)."""
ONCHAIN_SPEND_AFTER = 101
"""The coinbase of height h is spent at h + 101: to its own payout address (h % 3 == 0, consolidation), to an
exchange (h % 3 == 1, movement out), or not at all (h % 3 == 2)."""


def onchain_value(height: int) -> int:
    """Coinbase value of `height` [sats]: subsidy + 1,000 sats per other transaction (always 2)."""
    from hashrisk.chain.subsidy import block_subsidy_sats

    return block_subsidy_sats(height) + 2_000


def onchain_bodies(height: int, salt: str) -> BlockBody:
    """Block bodies of the small chain described by `ONCHAIN_POOLS` and `ONCHAIN_SPEND_AFTER`."""
    tag, payout, _ = ONCHAIN_POOLS[height % 4]
    txs = [
        coinbase_json(txid_of("cb", salt, height), height, tag, [(onchain_value(height), payout), (0, None)])
    ]
    spent = height - ONCHAIN_SPEND_AFTER
    if spent >= 0 and spent % 3 != 2 and salt == "main":
        value = onchain_value(spent) - 1_000
        to = ONCHAIN_POOLS[spent % 4][1] if spent % 3 == 0 else "bc1qexchange00000000000000000000000000000"
        txs.append(
            tx_json(txid_of("s", salt, height), [(txid_of("cb", salt, spent), 0)], [(value, to)], 1_000)
        )
    else:
        txs.append(
            tx_json(txid_of("s", salt, height), [(txid_of("x", height), 0)], [(5_000, "bc1qx")], 1_000)
        )
    txs.append(tx_json(txid_of("f", salt, height), [(txid_of("y", height), 1)], [(7_000, "bc1qy")], 1_000))
    text = json.dumps(txs, separators=(",", ":"))
    return BlockBody(len(txs), 2_000, lambda: text)


def onchain_store(home: Any, n_blocks: int = 400) -> None:
    """Sync the small chain (`onchain_bodies`) with coinbase flows into the store at `home`."""
    from hashrisk.data.bitcoind import BitcoinRPC, sync_blocks
    from hashrisk.data.coinbase import CoinbaseLedger
    from hashrisk.data.pools import load_pools
    from hashrisk.data.store import Store

    with (
        RpcChainServer(n_blocks, bodies=onchain_bodies) as server,
        Store(home) as store,
        BitcoinRPC(server.url, user="alice", password="s3cret") as rpc,
    ):
        sync_blocks(store, rpc, batch=100, coinbase=CoinbaseLedger(store), pools=load_pools(None))
