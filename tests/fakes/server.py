"""A real HTTP server on 127.0.0.1 that answers like an LLM provider.

Tests point the real SDKs (openai, anthropic, google-genai) and httpx at `FakeServer.base_url`;
nothing in the application is patched. Each route answers with one or more `Reply` objects:

- `Replay`: a recorded fixture from `WIRE`, byte for byte, with its recorded status and headers.
- `Stream`: scripted chunks with chunked transfer encoding, optionally paced, delayed, dropped or held open.
- `Status`: a plain response (errors, model lists, ...).
- `Dynamic`: a reply computed from the request (stateful fakes such as `openrouter.FakeOpenRouter`).

The server notices when a client closes a streaming connection early (`closed_connections()`), so
tests can prove that cancelling really closes the socket.
"""

from __future__ import annotations

import contextlib
import json
import re
import select
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urlsplit

from tests.fakes import WIRE

# How often a waiting reply looks at its socket and at the events it waits for (seconds).
POLL_INTERVAL = 0.005
# How long close() waits for handler threads before reporting them.
_JOIN_TIMEOUT = 5.0

_HOP_BY_HOP = frozenset({"transfer-encoding", "content-length", "content-encoding", "connection", "keep-alive"})
_STREAM_TYPES = ("text/event-stream", "application/x-ndjson")
_SSE_EVENT_END = re.compile(rb"\r\n\r\n|\n\n|\r\r")
_GENERATION_ID = re.compile(rb'"id"\s*:\s*"(gen-[^"]+)"')
_ERROR_STATUS = re.compile(r"^error_(\d{3})_")


@dataclass
class RecordedRequest:
    """One request as the fake server received it."""

    method: str
    path: str  # including the query string
    headers: dict[str, str]  # lower-cased names
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class Reply(Protocol):
    """What a route answers with."""

    def send(self, handler: FakeHandler) -> None: ...


# --------------------------------------------------------------------------------------------
# Replies
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Status:
    """A plain response with a Content-Length body; a dict body is sent as JSON."""

    status: int
    body: bytes | str | Mapping[str, Any] = b""
    headers: Mapping[str, str] = field(default_factory=dict)
    content_type: str = "application/json"

    def send(self, handler: FakeHandler) -> None:
        if isinstance(self.body, bytes):
            data = self.body
        elif isinstance(self.body, str):
            data = self.body.encode()
        else:
            data = json.dumps(self.body).encode()
        headers = [("Content-Type", self.content_type), *self.headers.items()]
        handler.start_response(self.status, headers, length=len(data))
        handler.write(data)


@dataclass(frozen=True)
class Stream:
    """Scripted chunks sent with chunked transfer encoding, one HTTP chunk per item.

    rate: chunks per second (None: as fast as possible).
    first_byte_delay: seconds to wait before the status line, or an Event to wait for.
    drop_after: after that many chunks, abort the TCP connection (no terminating chunk).
    hold_open: after the last chunk, wait for this Event before ending the response.
    Every wait watches the socket and stops (recording the close) when the client goes away.
    """

    chunks: Sequence[bytes]
    content_type: str = "text/event-stream"
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    rate: float | None = None
    first_byte_delay: float | threading.Event | None = None
    drop_after: int | None = None
    hold_open: threading.Event | None = None

    def events(self) -> list[threading.Event]:
        """The events this reply may wait on (the server releases them on exit)."""
        return [e for e in (self.first_byte_delay, self.hold_open) if isinstance(e, threading.Event)]

    def send(self, handler: FakeHandler) -> None:
        if self.first_byte_delay is not None and not handler.wait(self.first_byte_delay):
            return
        handler.start_response(self.status, [("Content-Type", self.content_type), *self.headers.items()])
        interval = 1.0 / self.rate if self.rate else None
        count = len(self.chunks) if self.drop_after is None else min(self.drop_after, len(self.chunks))
        for index, chunk in enumerate(self.chunks[:count]):
            if index and interval is not None and not handler.wait(interval):
                return
            if not handler.write_chunk(chunk):
                return
        if self.drop_after is not None:
            handler.abort()
            return
        if self.hold_open is not None and not handler.wait(self.hold_open):
            return
        handler.end_chunks()


@dataclass(frozen=True)
class Replay:
    """A recorded fixture, byte for byte, with the status and headers of its sidecar.

    `path` is absolute or relative to WIRE ("openai/chat_completions_stream_text_usage.sse").
    Streaming bodies go out with chunked encoding, one chunk per SSE event or NDJSON line.
    `status` overrides the recorded status.
    """

    path: Path | str
    status: int | None = None

    @property
    def file(self) -> Path:
        path = Path(self.path)
        return path if path.is_absolute() else WIRE / path

    def body(self) -> bytes:
        return self.file.read_bytes()

    def recorded_status(self) -> int:
        """The sidecar's `_status`, else the status in an `error_<status>_…` name, else 200."""
        sidecar = self._sidecar()
        if sidecar is not None:
            return int(sidecar["_status"])
        match = _ERROR_STATUS.match(self.file.name)
        return int(match.group(1)) if match else 200

    def headers(self) -> list[tuple[str, str]]:
        """The recorded headers minus hop-by-hop ones, with a Content-Type and OpenRouter's X-Generation-Id."""
        sidecar = self._sidecar()
        recorded: dict[str, list[str]] = sidecar.get("headers", {}) if sidecar else {}
        headers = [(name, value) for name, values in recorded.items() for value in values]
        headers = [(name, value) for name, value in headers if name.lower() not in _HOP_BY_HOP]
        names = {name.lower() for name, _ in headers}
        if "content-type" not in names:
            headers.append(("Content-Type", self._default_content_type()))
        if self.file.parent.name == "openrouter" and self.file.name.startswith("chat_completions"):
            match = _GENERATION_ID.search(self.body())
            if match and "x-generation-id" not in names:
                headers.append(("X-Generation-Id", match.group(1).decode()))
        return headers

    def chunks(self) -> list[bytes]:
        """The body cut into the pieces it is streamed in (one piece when it is not a stream)."""
        body = self.body()
        if not self._is_stream():
            return [body]
        if self._content_type().startswith("application/x-ndjson") or self.file.suffix == ".ndjson":
            return _split_after(body, re.compile(rb"\n"))
        return _split_after(body, _SSE_EVENT_END)

    def send(self, handler: FakeHandler) -> None:
        status = self.status if self.status is not None else self.recorded_status()
        headers = self.headers()
        if not self._is_stream():
            body = self.body()
            handler.start_response(status, headers, length=len(body))
            handler.write(body)
            return
        handler.start_response(status, headers)
        for chunk in self.chunks():
            if not handler.write_chunk(chunk):
                return
        handler.end_chunks()

    def _sidecar(self) -> dict[str, Any] | None:
        sidecar = self.file.with_suffix(".headers.json")
        if not sidecar.exists():
            return None
        data: dict[str, Any] = json.loads(sidecar.read_text(encoding="utf-8"))
        return data

    def _content_type(self) -> str:
        for name, value in self.headers():
            if name.lower() == "content-type":
                return value.lower()
        return self._default_content_type()

    def _default_content_type(self) -> str:
        return {".sse": "text/event-stream", ".ndjson": "application/x-ndjson"}.get(
            self.file.suffix, "application/json"
        )

    def _is_stream(self) -> bool:
        return self.file.suffix in (".sse", ".ndjson") or self._content_type().startswith(_STREAM_TYPES)


@dataclass(frozen=True)
class Dynamic:
    """A reply computed per request: `answer(request)` returns the Reply that is then sent.

    Stateful fakes (tests.fakes.openrouter) route every path to one Dynamic.
    """

    answer: Callable[[RecordedRequest], Reply]

    def send(self, handler: FakeHandler) -> None:
        if handler.recorded is None:
            raise RuntimeError("Dynamic reply used outside a request")
        self.answer(handler.recorded).send(handler)


def _split_after(body: bytes, separator: re.Pattern[bytes]) -> list[bytes]:
    """Cut `body` right after each separator; the pieces join back to `body` exactly."""
    pieces: list[bytes] = []
    start = 0
    for match in separator.finditer(body):
        pieces.append(body[start : match.end()])
        start = match.end()
    if start < len(body):
        pieces.append(body[start:])
    return pieces


# --------------------------------------------------------------------------------------------
# The server
# --------------------------------------------------------------------------------------------


class FakeHandler(BaseHTTPRequestHandler):
    """Reads one request, records it and lets the matching reply answer.

    Replies use the small API below (start_response, write, write_chunk, end_chunks, wait, abort).
    """

    protocol_version = "HTTP/1.1"
    # Headers and body go out in separate writes; with Nagle on, a kept-alive connection waits
    # for the client's delayed ACK (~40 ms) before each response body. Real servers set it too.
    disable_nagle_algorithm = True
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.started = False  # the status line went out
        self._close_recorded = False
        self.recorded: RecordedRequest | None = None  # the request being answered

    @property
    def fake(self) -> FakeServer:
        return self.server.fake

    # -- request side -----------------------------------------------------------------------

    def _dispatch(self) -> None:
        self.started = False
        body = self._read_body()
        request = RecordedRequest(
            method=self.command,
            path=self.path,
            headers={name.lower(): value for name, value in self.headers.items()},
            body=body,
        )
        self.recorded = request
        reply = self.fake._record_and_match(request)
        try:
            reply.send(self)
        except Exception as error:
            self._fail(error)

    # BaseHTTPRequestHandler looks up do_<METHOD>; every method goes through the routes.
    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = _dispatch  # noqa: N815

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            parts: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    return b"".join(parts)
                parts.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _fail(self, error: BaseException) -> None:
        """A reply crashed: report it and make sure the client is not left waiting."""
        sys.stderr.write(f"fake server: reply failed for {self.command} {self.path}\n")
        traceback.print_exception(error, file=sys.stderr)
        self.close_connection = True
        if not self.started:
            with contextlib.suppress(OSError):
                message = f"fake server error: {type(error).__name__}: {error}"
                Status(500, {"error": {"message": message}}, headers={"Connection": "close"}).send(self)
                return
        self.abort()

    # -- response API for replies -------------------------------------------------------------

    def start_response(self, status: int, headers: Iterable[tuple[str, str]], *, length: int | None = None) -> None:
        """Send the status line and headers; `length` None means a chunked body follows."""
        self.send_response_only(status)
        names: set[str] = set()
        for name, value in headers:
            if name.lower() in ("transfer-encoding", "content-length"):
                continue
            names.add(name.lower())
            self.send_header(name, value)
        if "date" not in names:
            self.send_header("Date", formatdate(usegmt=True))
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        self.started = True
        self.end_headers()

    def write(self, data: bytes) -> bool:
        """Write raw bytes; False (and the close recorded) when the client has gone."""
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.note_client_closed()
            return False
        except OSError:
            self.close_connection = True  # the server shut the socket down
            return False
        return True

    def write_chunk(self, data: bytes) -> bool:
        """Send one HTTP chunk (empty data is skipped: it would end the body)."""
        if self.client_closed():
            return False
        if not data:
            return True
        return self.write(b"%X\r\n%s\r\n" % (len(data), data))

    def end_chunks(self) -> bool:
        """Send the terminating zero-length chunk."""
        return self.write(b"0\r\n\r\n")

    def abort(self) -> None:
        """Cut the TCP connection without finishing the response."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
        with contextlib.suppress(OSError):
            self.connection.close()

    def wait(self, until: float | threading.Event | None) -> bool:
        """Wait some seconds or for an Event, watching the socket.

        False when the client closed the connection (recorded) or the server is shutting down.
        """
        if until is None:
            return not self.client_closed()
        if isinstance(until, threading.Event):
            self.fake._hold(until)
            while not until.is_set():
                if self.client_closed(POLL_INTERVAL):
                    return False
            return not self.fake.closing
        deadline = time.monotonic() + until
        while (left := deadline - time.monotonic()) > 0:
            if self.client_closed(min(left, POLL_INTERVAL)):
                return False
        return not self.client_closed()

    def client_closed(self, timeout: float = 0.0) -> bool:
        """Poll the socket up to `timeout` seconds; True if the client closed it or the server is closing."""
        if self.fake.closing:
            self.close_connection = True
            return True
        try:
            readable, _, _ = select.select([self.connection], [], [], timeout)
            if not readable:
                return False
            peeked = self.connection.recv(1, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except BlockingIOError:
            return False
        except (ConnectionResetError, BrokenPipeError):
            peeked = b""
        except (OSError, ValueError):  # our own socket was shut down or closed
            self.close_connection = True
            return True
        if peeked:
            # The client sent more bytes (a pipelined request); it is still there.
            time.sleep(timeout)
            return False
        self.note_client_closed()
        return True

    def note_client_closed(self) -> None:
        """Record (once per connection) that the client went away before the response ended."""
        self.close_connection = True
        if self._close_recorded or self.fake.closing:
            return
        self._close_recorded = True
        self.fake._record_close(time.monotonic())

    # -- quiet logging ---------------------------------------------------------------------------

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def log_error(self, format: str, *args: Any) -> None:
        sys.stderr.write(f"fake server: {format % args}\n")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # FakeServer.close() joins the handler threads itself
    request_queue_size = 128  # many clients may connect at once

    def __init__(self, fake: FakeServer) -> None:
        self.fake = fake
        super().__init__(("127.0.0.1", 0), FakeHandler)

    def process_request(self, request: Any, client_address: Any) -> None:
        thread = threading.Thread(
            target=self.process_request_thread, args=(request, client_address), name="fake-handler", daemon=True
        )
        self.fake._track(request, thread)
        thread.start()

    def shutdown_request(self, request: Any) -> None:
        self.fake._untrack(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client dropping a keep-alive connection is normal; anything else is reported.
        if not self.fake.closing and not isinstance(sys.exc_info()[1], ConnectionError):
            sys.stderr.write(f"fake server: error while handling a request from {client_address}\n")
            traceback.print_exc(file=sys.stderr)


@dataclass
class _Route:
    replies: tuple[Reply, ...]
    served: int = 0

    def next_reply(self) -> Reply:
        reply = self.replies[min(self.served, len(self.replies) - 1)]
        self.served += 1
        return reply


class FakeServer:
    """ThreadingHTTPServer on 127.0.0.1 with a random port, served from a daemon thread.

    Use it as a context manager; `close()` also releases every Event a reply is waiting on.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._closed = threading.Condition(self._lock)
        self._routes: dict[tuple[str, str], _Route] = {}
        self._closes: list[float] = []
        self._held: list[threading.Event] = []
        self._connections: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []
        self._closing = threading.Event()
        self.requests: list[RecordedRequest] = []
        self._httpd = _HTTPServer(self)
        host, port = self._httpd.server_address[:2]
        self.base_url = f"http://{host!s}:{port}"
        self._thread: threading.Thread | None = None

    # -- configuration ------------------------------------------------------------------------------

    def route(self, method: str, path: str, *replies: Reply) -> None:
        """Answer METHOD PATH (no query string; a trailing "*" makes it a prefix) with `replies` in order.

        The last reply repeats forever; a later route() for the same method and path replaces this one.
        """
        if not replies:
            raise ValueError("route() needs at least one reply")
        with self._lock:
            self._routes[(method.upper(), path)] = _Route(tuple(replies))
            for reply in replies:
                if isinstance(reply, Stream):
                    self._held.extend(reply.events())

    def closed_connections(self) -> list[float]:
        """time.monotonic() stamps of the moments clients closed streaming connections early."""
        with self._lock:
            return list(self._closes)

    def wait_for_close(self, count: int = 1, timeout: float = 5.0) -> list[float]:
        """Block until `count` early closes were seen and return their stamps; TimeoutError otherwise."""
        with self._closed:
            if not self._closed.wait_for(lambda: len(self._closes) >= count, timeout):
                raise TimeoutError(f"saw {len(self._closes)} of {count} client closes within {timeout} s")
            return list(self._closes)

    @property
    def closing(self) -> bool:
        return self._closing.is_set()

    # -- lifecycle ------------------------------------------------------------------------------------

    def start(self) -> FakeServer:
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, name="fake-server", daemon=True
            )
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, release held streams, cut open connections and join every thread."""
        if self._closing.is_set():
            return
        self._closing.set()
        with self._lock:
            held = list(self._held)
            connections = list(self._connections)
        for event in held:
            event.set()
        if self._thread is not None:
            self._httpd.shutdown()
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self._httpd.server_close()
        deadline = time.monotonic() + _JOIN_TIMEOUT
        for thread in [self._thread, *self._threads]:
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
                if thread.is_alive():
                    sys.stderr.write(f"fake server: thread {thread.name} did not stop\n")

    def __enter__(self) -> FakeServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # -- used by the handler ----------------------------------------------------------------------------

    def _record_and_match(self, request: RecordedRequest) -> Reply:
        path = urlsplit(request.path).path
        with self._lock:
            self.requests.append(request)
            route = self._routes.get((request.method, path))
            if route is None:
                prefixes = [
                    (len(pattern), pattern)
                    for method, pattern in self._routes
                    if method == request.method and pattern.endswith("*") and path.startswith(pattern[:-1])
                ]
                if prefixes:
                    route = self._routes[(request.method, max(prefixes)[1])]
            if route is not None:
                return route.next_reply()
        return Status(404, {"error": {"message": f"no fake route for {request.method} {path}"}})

    def _record_close(self, stamp: float) -> None:
        with self._closed:
            self._closes.append(stamp)
            self._closed.notify_all()

    def _hold(self, event: threading.Event) -> None:
        with self._lock:
            self._held.append(event)
        if self.closing:
            event.set()

    def _track(self, connection: socket.socket, thread: threading.Thread) -> None:
        with self._lock:
            self._connections.add(connection)
            self._threads = [t for t in self._threads if t.is_alive()]
            self._threads.append(thread)

    def _untrack(self, connection: socket.socket) -> None:
        with self._lock:
            self._connections.discard(connection)
