"""Keys: environment -> OS keyring -> private file; never shown, logged or stored elsewhere."""

from __future__ import annotations

import stat
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail

from mai_tui.core.errors import InvalidInput
from mai_tui.core.secrets import SecretStore, Source, mask, secret_name
from mai_tui.locations import Paths

KEY = "sk-test-abcdefghijklmnop1234"


class MemoryKeyring(KeyringBackend):
    """A real keyring backend that keeps passwords in memory (stands in for the OS one)."""

    priority = 5

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]
        self.passwords: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.passwords.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.passwords[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        del self.passwords[(service, username)]


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(fail.Keyring())  # type: ignore[no-untyped-call]


def store() -> SecretStore:
    return SecretStore(Paths.from_environment().secrets_file, ("lab",))


def test_without_keyring_the_key_goes_to_a_private_file() -> None:
    secrets = store()
    saved = secrets.set("openai", KEY + "\n")
    assert saved.source is Source.FILE
    path = Paths.from_environment().secrets_file
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    found = secrets.get("openai")
    assert found is not None
    assert found.value == KEY
    assert found.source is Source.FILE
    assert "plain-text file" in secrets.backend_description()


def test_keyring_is_used_when_a_real_backend_is_active(memory_keyring: MemoryKeyring) -> None:
    secrets = store()
    assert secrets.set("anthropic", KEY).source is Source.KEYRING
    assert memory_keyring.passwords[("mai", "anthropic")] == KEY
    assert not Paths.from_environment().secrets_file.exists()
    found = secrets.get("anthropic")
    assert found is not None
    assert found.source is Source.KEYRING
    assert secrets.delete("anthropic") == [Source.KEYRING]
    assert secrets.get("anthropic") is None


def test_environment_wins_over_stored_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = store()
    secrets.set("gemini", KEY)
    monkeypatch.setenv("GOOGLE_API_KEY", "AIzaFromTheEnvironment0123456789")
    found = secrets.get("gemini")
    assert found is not None
    assert found.source is Source.ENVIRONMENT
    assert found.detail == "GOOGLE_API_KEY"
    monkeypatch.setenv("GEMINI_API_KEY", "AIzaPreferredVariable0123456789")
    found = secrets.get("gemini")
    assert found is not None
    assert found.detail == "GEMINI_API_KEY"


def test_custom_endpoint_does_not_pick_up_provider_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    assert store().get("lab") is None


def test_delete_from_file_and_unknown_names() -> None:
    secrets = store()
    secrets.set("openrouter", KEY)
    secrets.set(secret_name("openrouter", "acme"), KEY + "x")
    assert secrets.delete("openrouter") == [Source.FILE]
    assert secrets.get("openrouter") is None
    assert secrets.get("org:acme:openrouter") is not None
    with pytest.raises(InvalidInput):
        secrets.check_name("opnai")
    with pytest.raises(InvalidInput):
        secret_name("openai", "acme")
    with pytest.raises(InvalidInput):
        secrets.set("openai", "two words")


def test_repr_and_mask_never_show_the_key() -> None:
    secret = store().set("openai", KEY)
    assert KEY not in repr(secret)
    assert KEY not in str(secret)
    assert mask(KEY) == "sk-…1234"
    assert mask("short") == "………"


def test_a_broken_key_file_is_a_clear_error(tmp_path: Path) -> None:
    path = Paths.from_environment().secrets_file
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json")
    with pytest.raises(Exception, match="cannot be read"):
        store().get("openai")
