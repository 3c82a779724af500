"""`mai serve`: the same app in a browser, through textual-serve.

Each browser tab that opens the page starts its own `mai` (the TUI, with this user's
keys and data) and drives it over a websocket. There is no login, so the server listens
on loopback unless told otherwise, and says loudly what binding elsewhere means.

Two guards textual-serve does not have: the terminal's websocket is refused to pages of
other sites (any web page can open a websocket to 127.0.0.1), and on loopback a request
must name a loopback host (a DNS-rebinding page names its own).
"""

from __future__ import annotations

import errno
import ipaddress
import sys
from typing import Annotated, Any

import typer

from mai_tui.core.errors import InvalidInput
from mai_tui.i18n import _

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
_WILDCARDS = {"", "0.0.0.0", "::"}  # noqa: S104 (names, compared against; nothing binds here)

Host = Annotated[
    str, typer.Option("--host", help=_("Address to listen on; anything but loopback is reachable by others."))
]
Port = Annotated[
    int,
    typer.Option("--port", envvar="PORT", min=1, max=65535, help=_("Port to listen on (default: $PORT, else 8080).")),
]


def is_loopback(host: str) -> bool:
    """True for `localhost` and any loopback address (127.0.0.0/8, ::1)."""
    name = host.strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def url_for(host: str, port: int) -> str:
    """The address to open in a browser (a wildcard host is shown as this machine's name)."""
    import socket

    name = socket.gethostname() if host in _WILDCARDS else host
    if ":" in name and not name.startswith("["):
        name = f"[{name}]"  # an IPv6 literal
    return f"http://{name}:{port}"


def ensure_port_free(host: str, port: int) -> None:
    """Raise `InvalidInput` with a clear line when `host:port` cannot be listened on."""
    import socket

    try:
        addresses = socket.getaddrinfo(host or None, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except socket.gaierror as error:
        raise InvalidInput(_("cannot listen on {host}: {reason}").format(host=host, reason=error.strerror)) from None
    for family, kind, proto, _name, address in addresses:
        with socket.socket(family, kind, proto) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server itself will
            try:
                probe.bind(address)
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    message = _("port {port} on {host} is already in use: stop what uses it or choose --port")
                    raise InvalidInput(message.format(port=port, host=host)) from None
                reason = error.strerror or str(error)
                raise InvalidInput(_("cannot listen on {host}: {reason}").format(host=host, reason=reason)) from None


def app_command() -> str:
    """The shell command textual-serve runs per browser tab: this interpreter's `mai` TUI."""
    import shlex

    return f"{shlex.quote(sys.executable)} -m mai_tui"


def _make_server(command: str, host: str, port: int, title: str) -> Any:
    import asyncio  # imports in functions: `mai --help` loads this module and should stay quick
    import signal

    from aiohttp import web
    from textual_serve.server import Server

    loopback_only = is_loopback(host)
    sessions: set[asyncio.Task[Any]] = set()

    class BrowserServer(Server):
        interrupted = False

        def _check_request(self, request: web.Request) -> None:
            if loopback_only and not is_loopback(request.url.host or ""):
                raise web.HTTPForbidden(text="mai serve: this server answers only to a loopback host name")

        async def handle_index(self, request: web.Request) -> web.StreamResponse:
            self._check_request(request)
            # The page's script and websocket links are absolute: make them from the address the
            # browser used, so the page works by any name or address this machine answers to
            # (textual-serve's default, http://HOST:PORT, is unusable for 0.0.0.0 or ::1).
            # No await comes between setting the URL and the page being rendered with it.
            self.public_url = f"{request.scheme}://{request.host}"
            response: web.StreamResponse = await super().handle_index(request)
            return response

        async def handle_websocket(self, request: web.Request) -> web.WebSocketResponse:
            self._check_request(request)
            origin = request.headers.get("Origin")
            if origin is not None and origin.split("://", 1)[-1] != request.host:
                raise web.HTTPForbidden(text="mai serve: the terminal opens only from this server's own page")
            session = asyncio.current_task()
            assert session is not None  # aiohttp runs each request in a task
            sessions.add(session)
            try:
                response: web.WebSocketResponse = await super().handle_websocket(request)
            finally:
                sessions.discard(session)
            return response

        async def on_shutdown(self, app: web.Application) -> None:
            # End each browser's session (textual-serve then tells its `mai` to quit); otherwise
            # the server waits for every open tab to go away before it exits.
            for session in sessions:
                session.cancel()

        async def on_startup(self, app: web.Application) -> None:
            # Ctrl+C ends the server with the contract's 130 (textual-serve treats it as a plain exit).
            asyncio.get_running_loop().add_signal_handler(signal.SIGINT, self._interrupt)
            message = _("{name}: open {url} in a web browser (Ctrl+C stops the server).")
            sys.stdout.write(message.format(name=title, url=url_for(host, port)) + "\n")
            sys.stdout.flush()

        def _interrupt(self) -> None:
            self.interrupted = True
            self.request_exit()

    return BrowserServer(command, host=host, port=port, title=title)


def serve(host: Host = DEFAULT_HOST, port: Port = DEFAULT_PORT) -> None:
    """Serve the TUI to web browsers until Ctrl+C."""
    from mai_tui.locations import DEFAULT_BRAND, peek

    if not is_loopback(host):
        warning = _(
            "mai: WARNING: serving on {host}, not only on this computer. Anyone who can reach port {port} "
            "gets the app with your API keys, chats and documents: there is no login. "
            "Use --host 127.0.0.1 unless every machine on this network is yours."
        )
        sys.stderr.write(warning.format(host=host or "*", port=port) + "\n")
        sys.stderr.flush()
    ensure_port_free(host, port)
    server = _make_server(app_command(), host, port, peek("webui_name", DEFAULT_BRAND))
    server.serve()
    if server.interrupted:
        raise KeyboardInterrupt  # `mai` reports it and exits 130
