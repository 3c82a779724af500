"""`mai serve`: the real binary serves the TUI over HTTP on loopback, warns when bound wider,
refuses a busy port, and a real headless Chromium runs the app in the page."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import suppress
from pathlib import Path

import httpx
import pytest
from PIL import Image
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from mai_tui.cli.serve import is_loopback, url_for
from tests.fakes.server import FakeServer, Stream
from tests.fakes.wire import openrouter_chunks

MAI = Path(sys.executable).parent / "mai"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
ANSI = re.compile(r"\x1b(\[[0-9;?$]*[ -/]*[@-~]|\][^\x07\x1b]*(\x07|\x1b\\)|[()][0-9A-Za-z]|[=>78])")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_until(predicate: Callable[[], bool], what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)  # polling, not timing anything
    raise AssertionError(f"never saw {what} within {timeout} s")


class Served:
    """`mai serve ARGS` as a real process in a group of its own, output kept in files."""

    def __init__(self, folder: Path, *args: str) -> None:
        self.stdout_file = folder / "serve.out"
        self.stderr_file = folder / "serve.err"
        with self.stdout_file.open("wb") as out, self.stderr_file.open("wb") as err:
            self.process = subprocess.Popen([str(MAI), "serve", *args], stdout=out, stderr=err, start_new_session=True)

    @property
    def stdout(self) -> str:
        return self.stdout_file.read_text(encoding="utf-8")

    @property
    def stderr(self) -> str:
        return self.stderr_file.read_text(encoding="utf-8")

    def wait_until_answering(self, url: str) -> httpx.Response:
        answers: list[httpx.Response] = []

        def answered() -> bool:
            assert self.process.poll() is None, f"mai serve exited {self.process.returncode}: {self.stderr}"
            with suppress(httpx.TransportError):
                answers.append(httpx.get(url, timeout=5))
            return bool(answers)

        wait_until(answered, f"{url} answering")
        return answers[0]

    def kill(self) -> None:
        """Everything it started (the per-tab `mai` apps too) goes with it."""
        with suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[Callable[..., Served]]:
    """Start `mai serve` with the test's isolated XDG folders (inherited from os.environ)."""
    started: list[Served] = []

    def start(*args: str) -> Served:
        served = Served(tmp_path, *args)
        started.append(served)
        return served

    yield start
    for served in started:
        served.kill()


def test_serves_the_app_on_loopback_and_ctrl_c_exits_130(serve: Callable[..., Served]) -> None:
    port = free_port()
    server = serve("--port", str(port))
    page = server.wait_until_answering(f"http://127.0.0.1:{port}/")

    assert page.status_code == 200
    assert "<div>mAI</div>" in page.text  # the brand on the page that starts the terminal
    assert f'data-session-websocket-url="ws://127.0.0.1:{port}/ws"' in page.text
    assert f"open http://127.0.0.1:{port} in a web browser" in server.stdout
    assert "WARNING" not in server.stderr

    server.process.send_signal(signal.SIGINT)
    assert server.process.wait(timeout=30) == 130
    assert "mai: interrupted" in server.stderr


def test_foreign_host_names_and_other_sites_pages_are_refused(serve: Callable[..., Served]) -> None:
    port = free_port()
    server = serve("--port", str(port))
    base = f"http://127.0.0.1:{port}"
    assert server.wait_until_answering(f"{base}/").status_code == 200
    assert httpx.get(f"http://localhost:{port}/").status_code == 200

    # A DNS-rebinding page reaches 127.0.0.1 under its own name.
    assert httpx.get(f"{base}/", headers={"Host": f"attacker.example:{port}"}).status_code == 403
    # Any web page may open a websocket to 127.0.0.1: the terminal refuses other origins.
    upgrade = {
        "Connection": "Upgrade",
        "Upgrade": "websocket",
        "Sec-WebSocket-Version": "13",
        "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ==",
    }
    refused = httpx.get(f"{base}/ws", headers={**upgrade, "Origin": "https://attacker.example"})
    assert refused.status_code == 403


def test_binding_beyond_loopback_warns_first(serve: Callable[..., Served]) -> None:
    port = free_port()
    server = serve("--host", "0.0.0.0", "--port", str(port))  # noqa: S104 (what the test is about)
    page = server.wait_until_answering(f"http://127.0.0.1:{port}/")  # traffic stays on loopback

    assert page.status_code == 200
    assert f"ws://127.0.0.1:{port}/ws" in page.text  # the links follow the address the browser used
    warning = server.stderr
    assert "WARNING: serving on 0.0.0.0" in warning
    assert "API keys" in warning
    assert "no login" in warning


def test_a_busy_port_is_a_clear_error(tmp_path: Path) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        by_option = subprocess.run([str(MAI), "serve", "--port", str(port)], capture_output=True, text=True, timeout=60)
        by_seed_variable = subprocess.run(  # the seed's PORT sets the default port
            [str(MAI), "serve"], capture_output=True, text=True, timeout=60, env={**os.environ, "PORT": str(port)}
        )
    for result in (by_option, by_seed_variable):
        assert result.returncode == 1
        assert result.stderr == f"mai: port {port} on 127.0.0.1 is already in use: stop what uses it or choose --port\n"


def test_loopback_and_browser_addresses() -> None:
    assert all(is_loopback(h) for h in ("127.0.0.1", "127.0.0.2", "::1", "[::1]", "localhost", "LOCALHOST"))
    assert not any(is_loopback(h) for h in ("0.0.0.0", "::", "", "192.168.1.5", "example.com"))  # noqa: S104
    assert url_for("::1", 8080) == "http://[::1]:8080"
    assert url_for("127.0.0.1", 80) == "http://127.0.0.1:80"
    assert url_for("0.0.0.0", 8080) == f"http://{socket.gethostname()}:8080"  # noqa: S104


def _group_alive(group: int) -> bool:
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


# --- a real browser ------------------------------------------------------------------------

# Runs before the page's own script: keeps what the app sends to the terminal, as text.
_RECORD_TERMINAL = """
(() => {
  const Native = window.WebSocket;
  const decoder = new TextDecoder();
  window.__terminalOutput = "";
  window.WebSocket = class extends Native {
    constructor(...args) {
      super(...args);
      this.addEventListener("message", (event) => {
        window.__terminalOutput += event.data instanceof ArrayBuffer
          ? decoder.decode(event.data, {stream: true}) : String(event.data);
      });
    }
  };
})();
"""


def _chromium() -> webdriver.Chrome:
    missing = [str(p) for p in (CHROMIUM, CHROMEDRIVER) if not p.exists()]
    if missing:
        pytest.fail(f"{', '.join(missing)} missing: run `make setup` (it installs chromium and chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in (
        "--headless=new",
        "--no-sandbox",  # root in a container has no user namespaces for the sandbox
        "--disable-dev-shm-usage",
        "--window-size=1280,800",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # the page's web font: never the network
    ):
        options.add_argument(argument)
    # A path for the driver: Selenium Manager (which downloads drivers) is never asked.
    return webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)


def test_a_browser_runs_the_app_and_a_person_can_chat(
    serve: Callable[..., Served], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started = time.monotonic()
    with FakeServer() as provider:
        provider.route("POST", "/api/v1/chat/completions", Stream(openrouter_chunks(["Hello ", "from the fake."])))
        monkeypatch.setenv("OPENROUTER_BASE_URL", f"{provider.base_url}/api/v1")
        monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-v1-servetest0123456789")
        monkeypatch.setenv("MAI_DEFAULT_MODEL", "openrouter/x/y")
        port = free_port()
        server = serve("--port", str(port))
        url = f"http://127.0.0.1:{port}/"
        server.wait_until_answering(url)

        browser = _chromium()
        try:
            browser.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _RECORD_TERMINAL})
            browser.get(url)

            def screen() -> str:
                return ANSI.sub("", str(browser.execute_script("return window.__terminalOutput")))

            # The websocket connected, `mai` started behind it, opened its database and drew itself.
            wait_until(lambda: "Signed in as tester (admin)" in screen(), "the app's signed-in status", 60)
            terminal = browser.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea")
            terminal.send_keys("Hello from a browser", Keys.ENTER)
            wait_until(lambda: "from the fake." in screen(), "the streamed answer", 60)
            wait_until(
                lambda: (
                    browser.execute_script(
                        "return getComputedStyle(document.querySelector('.textual-terminal')).opacity"
                    )
                    == "1"
                ),
                "the terminal shown",
            )
            assert "-first-byte" in str(browser.execute_script("return document.body.className"))
            shot = tmp_path / "mai-serve.png"
            assert browser.save_screenshot(str(shot))

            # Ctrl+C with the tab still open: the server and the `mai` it started for the tab end.
            server.process.send_signal(signal.SIGINT)
            assert server.process.wait(timeout=30) == 130
            wait_until(lambda: not _group_alive(server.process.pid), "the tab's `mai` gone")
        finally:
            browser.quit()

    with Image.open(shot) as image:
        colours = image.convert("RGB").getcolors(maxcolors=1 << 16)
    assert colours is not None  # more than 65,536 colours: certainly not blank
    assert len(colours) > 20, f"the screenshot looks blank ({len(colours)} colours): {shot}"
    database = Path(os.environ["XDG_DATA_HOME"]) / "mai" / "mai.db"
    with sqlite3.connect(database) as connection:
        stored = connection.execute("SELECT role, content FROM messages ORDER BY id").fetchall()
    assert stored == [("user", "Hello from a browser"), ("assistant", "Hello from the fake.")]
    sys.stderr.write(f"browser test: {time.monotonic() - started:.1f} s, screenshot {shot}\n")
