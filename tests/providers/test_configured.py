"""What is set up: the providers that can be called, and the default model (the help's getting-started page)."""

from __future__ import annotations

import pytest

from mai_tui.config import load_settings
from mai_tui.core.errors import SecretStoreError
from mai_tui.core.providers.configured import provider_setup
from mai_tui.core.secrets import SecretStore
from mai_tui.locations import Paths


def setup_now(org: str | None = None) -> tuple[tuple[str, ...], str | None, bool, bool]:
    settings = load_settings()
    store = SecretStore(Paths.from_environment().secrets_file, tuple(settings.providers.custom))
    found = provider_setup(settings, store, org=org)
    return found.configured, found.default_model, found.default_provider_configured, found.ready


def test_a_fresh_install_has_nothing_to_chat_with() -> None:
    assert setup_now() == ((), None, False, False)


def test_a_key_in_the_environment_or_the_store_configures_its_provider(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-0123456789abcdef")
    store = SecretStore(Paths.from_environment().secrets_file)
    store.set("openrouter", "sk-or-v1-0123456789abcdef")  # no keyring in tests: the private key file
    assert setup_now()[0] == ("anthropic", "openrouter")


def test_ollama_needs_an_address_and_the_default_model_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://127.0.0.1:11434")
    monkeypatch.setenv("MAI_DEFAULT_MODEL", "ollama/llama3.2")
    assert setup_now() == (("ollama",), "ollama/llama3.2", True, True)
    monkeypatch.setenv("MAI_DEFAULT_MODEL", "openai/gpt-4o-mini")  # no OpenAI key
    assert setup_now() == (("ollama",), "openai/gpt-4o-mini", False, True)
    monkeypatch.setenv("MAI_DEFAULT_MODEL", "gpt-4o-mini")  # not PROVIDER/MODEL
    assert setup_now()[2] is False


def test_a_custom_endpoint_counts_as_configured() -> None:
    config = Paths.from_environment().config_file
    config.parent.mkdir(parents=True)
    config.write_text('default_model = "lab/qwen"\n[providers.custom.lab]\nbase_url = "http://127.0.0.1:8000/v1"\n')
    assert setup_now() == (("lab",), "lab/qwen", True, True)


def test_an_unreadable_key_store_counts_as_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(self: SecretStore, name: str) -> None:
        raise SecretStoreError("the OS keyring failed: locked")

    monkeypatch.setattr(SecretStore, "get", broken)
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://127.0.0.1:11434")
    assert setup_now()[0] == ("ollama",)
