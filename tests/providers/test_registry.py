"""Which key goes where, attribution headers, proxies and CA bundles."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path

import pytest

from mai_tui.config import load_settings
from mai_tui.core.errors import InvalidInput
from mai_tui.core.providers import base
from mai_tui.core.providers.registry import Providers, split_model
from mai_tui.core.secrets import SecretStore
from mai_tui.locations import Paths
from tests.fakes.server import FakeServer, Stream
from tests.fakes.wire import openai_chunks, openrouter_chunks
from tests.providers.conftest import REQUEST, collect


def registry() -> Providers:
    settings = load_settings()
    return Providers(settings, SecretStore(Paths.from_environment().secrets_file, tuple(settings.providers.custom)))


def test_model_names_split_on_the_first_slash(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://127.0.0.1:1")
    settings = load_settings()
    assert split_model("openrouter/deepseek/deepseek-chat", settings) == ("openrouter", "deepseek/deepseek-chat")
    assert split_model("ollama/llama3.2", settings) == ("ollama", "llama3.2")
    with pytest.raises(InvalidInput, match="PROVIDER/MODEL"):
        split_model("gpt-4o", settings)
    with pytest.raises(InvalidInput, match="PROVIDER/MODEL"):
        split_model("nosuch/model", settings)


async def test_a_custom_endpoint_never_receives_the_openai_key(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-secret-0123456789")
    config = Paths.from_environment().config_file
    config.parent.mkdir(parents=True)
    config.write_text(f'[providers.custom.lab]\nbase_url = "{fake.base_url}/v1"\n')
    fake.route("POST", "/v1/chat/completions", Stream(openai_chunks(["hi"])))
    answer = await collect(registry().get("lab"), REQUEST)
    assert answer.text == "hi"
    [request] = fake.requests
    assert "sk-openai-secret" not in str(request.headers)
    assert request.headers["authorization"] == "Bearer not-set"


async def test_openrouter_gets_its_key_attribution_and_the_user(
    fake: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-v1-routerkey0123456789")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-openai-secret-0123456789")
    monkeypatch.setenv("OPENROUTER_BASE_URL", f"{fake.base_url}/api/v1")
    monkeypatch.setenv("WEBUI_NAME", "Acme AI")
    fake.route("POST", "/api/v1/chat/completions", Stream(openrouter_chunks(["ok"])))
    request = base.ChatRequest(model="openai/gpt-4o-mini", messages=[base.Message("user", "hi")], user="alice")
    answer = await collect(registry().get("openrouter"), request)
    assert answer.text == "ok"
    [sent] = fake.requests
    assert sent.headers["authorization"] == "Bearer sk-or-v1-routerkey0123456789"
    assert sent.headers["x-openrouter-title"] == "Acme AI"
    assert sent.headers["x-title"] == "Acme AI"
    assert sent.headers["http-referer"]
    body = sent.json()
    assert body["user"] == "alice"
    assert body["model"] == "openai/gpt-4o-mini"
    assert body["stream"] is True


async def test_https_proxy_from_the_environment_is_used(fake: FakeServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """The provider's real host is never contacted: the request goes to the proxy (our fake)."""
    monkeypatch.setenv("HTTP_PROXY", fake.base_url)
    monkeypatch.setenv("NO_PROXY", "")
    monkeypatch.setenv("OPENAI_API_KEY", "sk-proxy-test-0123456789")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://api.example.invalid/v1")
    fake.route("POST", "/v1/chat/completions", Stream(openai_chunks(["via proxy"])))
    answer = await collect(registry().get("openai"), REQUEST)
    assert answer.error is None, answer.error
    assert answer.text == "via proxy"
    [sent] = fake.requests
    assert sent.headers["host"] == "api.example.invalid"  # asked of the proxy, for the real host


def test_ssl_cert_file_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "mai test corporate CA")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    bundle = tmp_path / "ca.pem"
    bundle.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    base.ssl_context.cache_clear()
    try:
        subjects = [dict(item[0] for item in ca["subject"]) for ca in base.ssl_context().get_ca_certs()]  # type: ignore[misc]
        assert {"commonName": "mai test corporate CA"} in subjects
    finally:
        base.ssl_context.cache_clear()


def test_sdks_load_only_when_a_provider_is_first_used() -> None:
    code = (
        "import sys\nfrom mai_tui.core.providers import registry, base, wire, events, errors\n"
        "from mai_tui.core.chat import ask\n"
        "print(sorted(m for m in ('openai', 'anthropic', 'google.genai', 'httpx2') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"
