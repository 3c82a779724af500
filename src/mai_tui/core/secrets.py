"""API keys: environment -> OS keyring -> a private file, in that order.

Keys are never written to the database, the config file, logs or exports. When no real
keyring backend is active (headless servers, containers), keys go to `secrets.json` in
the config folder (folder 0700, file 0600) and every listing says they are stored as
plain text there.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from mai_tui.core.errors import InvalidInput, SecretStoreError
from mai_tui.core.logs import register_secret
from mai_tui.i18n import _

KEYRING_SERVICE = "mai"

# Built-in providers and the environment variables that may hold their key, in order.
PROVIDER_ENVIRONMENT: dict[str, tuple[str, ...]] = {
    "openai": ("OPENAI_API_KEY",),
    "anthropic": ("ANTHROPIC_API_KEY",),
    "gemini": ("GEMINI_API_KEY", "GOOGLE_API_KEY"),
    "openrouter": ("OPENROUTER_API_KEY",),
    "openrouter-management": ("OPENROUTER_MANAGEMENT_KEY",),
}


class Source(StrEnum):
    ENVIRONMENT = "environment"
    KEYRING = "keyring"
    FILE = "file"


@dataclass(frozen=True)
class Secret:
    """A resolved key and where it came from. `repr` never shows the value."""

    name: str
    value: str
    source: Source
    detail: str  # the variable name, the keyring backend, or the file path

    def __repr__(self) -> str:
        return f"Secret(name={self.name!r}, source={self.source.value!r}, value={mask(self.value)!r})"

    @property
    def masked(self) -> str:
        return mask(self.value)


def mask(value: str) -> str:
    """Show only enough of a key to recognise it: `sk-…a1b2`."""
    if len(value) < 12:
        return "…" * 3
    return f"{value[:3]}…{value[-4:]}"


def secret_name(provider: str, org: str | None = None) -> str:
    """The storage name of a provider key, or of an organization's own OpenRouter key."""
    if org is None:
        return provider
    if provider != "openrouter":
        raise InvalidInput(_("only an OpenRouter key can belong to an organization"))
    return f"org:{org}:openrouter"


def key_hash(key: str) -> str:
    """How OpenRouter names a key (`/keys/{hash}`, `/activity?api_key_hash=`): its SHA-256."""
    return hashlib.sha256(key.encode()).hexdigest()


def openrouter_key(secrets: SecretStore, org_name: str | None) -> tuple[str | None, str | None]:
    """The OpenRouter key a member of `org_name` calls with, and its hash when it is the org's own."""
    if org_name is not None:
        own = secrets.get(secret_name("openrouter", org_name))
        if own is not None:
            return own.value, key_hash(own.value)
    shared = secrets.get("openrouter")
    return (shared.value if shared else None), None


class SecretStore:
    """Resolves, stores and deletes keys. `custom_providers` are the configured endpoint names."""

    def __init__(self, secrets_file: Path, custom_providers: tuple[str, ...] = ()) -> None:
        self.secrets_file = secrets_file
        self.custom_providers = custom_providers

    # --- which names exist ------------------------------------------------------------
    def known_names(self) -> list[str]:
        return [*PROVIDER_ENVIRONMENT, *self.custom_providers]

    def check_name(self, provider: str) -> None:
        if provider not in self.known_names():
            choices = ", ".join(self.known_names())
            raise InvalidInput(
                _("unknown provider '{name}' (expected one of: {choices})").format(name=provider, choices=choices)
            )

    # --- the keyring, when a real one is active --------------------------------------
    def _keyring(self) -> Any | None:
        try:
            import keyring
            from keyring.backends import fail
        except Exception:  # keyring missing or broken: fall back to the file
            return None
        backend = keyring.get_keyring()
        if isinstance(backend, fail.Keyring) or getattr(backend, "priority", 0) < 1:
            return None
        if type(backend).__module__.startswith("keyring.backends.null"):
            return None
        return backend

    def backend_description(self) -> str:
        backend = self._keyring()
        if backend is None:
            return _("plain-text file {path} (no OS keyring available)").format(path=self.secrets_file)
        return _("OS keyring ({name})").format(name=type(backend).__name__)

    # --- the file fallback -----------------------------------------------------------
    def _read_file(self) -> dict[str, str]:
        try:
            data = json.loads(self.secrets_file.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as error:
            raise SecretStoreError(
                _("{path} cannot be read: {reason}").format(path=self.secrets_file, reason=type(error).__name__)
            ) from None
        if not isinstance(data, dict):
            raise SecretStoreError(_("{path} is not a key file").format(path=self.secrets_file))
        return {str(k): str(v) for k, v in data.items()}

    def _write_file(self, data: dict[str, str]) -> None:
        folder = self.secrets_file.parent
        folder.mkdir(parents=True, exist_ok=True)
        os.chmod(folder, 0o700)
        temporary = self.secrets_file.with_name(self.secrets_file.name + ".tmp")
        descriptor = os.open(temporary, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
            json.dump(data, handle, indent=2, sort_keys=True)
        os.chmod(temporary, 0o600)
        os.replace(temporary, self.secrets_file)

    # --- the public operations -------------------------------------------------------
    def get(self, name: str) -> Secret | None:
        """The key called `name` from the first place that has one, or None."""
        for variable in PROVIDER_ENVIRONMENT.get(name, ()):
            value = os.environ.get(variable, "").strip()
            if value:
                return self._found(name, value, Source.ENVIRONMENT, variable)
        backend = self._keyring()
        if backend is not None:
            try:
                value = backend.get_password(KEYRING_SERVICE, name)
            except Exception as error:
                raise SecretStoreError(
                    _("the OS keyring failed: {reason}").format(reason=type(error).__name__)
                ) from None
            if value:
                return self._found(name, value, Source.KEYRING, type(backend).__name__)
        stored = self._read_file().get(name)
        if stored:
            return self._found(name, stored, Source.FILE, str(self.secrets_file))
        return None

    def _found(self, name: str, value: str, source: Source, detail: str) -> Secret:
        register_secret(value)
        return Secret(name, value, source, detail)

    def set(self, name: str, value: str) -> Secret:
        """Store a key in the keyring, or in the private file when there is none."""
        value = value.strip()
        if not value:
            raise InvalidInput(_("the key is empty"))
        if any(ch.isspace() for ch in value):
            raise InvalidInput(_("a key cannot contain spaces or line breaks"))
        register_secret(value)
        backend = self._keyring()
        if backend is not None:
            try:
                backend.set_password(KEYRING_SERVICE, name, value)
            except Exception as error:
                raise SecretStoreError(
                    _("the OS keyring failed: {reason}").format(reason=type(error).__name__)
                ) from None
            return Secret(name, value, Source.KEYRING, type(backend).__name__)
        data = self._read_file()
        data[name] = value
        self._write_file(data)
        return Secret(name, value, Source.FILE, str(self.secrets_file))

    def delete(self, name: str) -> list[Source]:
        """Remove a stored key from the keyring and the file; returns where it was."""
        removed: list[Source] = []
        backend = self._keyring()
        if backend is not None:
            try:
                if backend.get_password(KEYRING_SERVICE, name) is not None:
                    backend.delete_password(KEYRING_SERVICE, name)
                    removed.append(Source.KEYRING)
            except Exception as error:
                raise SecretStoreError(
                    _("the OS keyring failed: {reason}").format(reason=type(error).__name__)
                ) from None
        data = self._read_file()
        if name in data:
            del data[name]
            self._write_file(data)
            removed.append(Source.FILE)
        return removed

    def environment_variable(self, name: str) -> str | None:
        """The environment variable that currently provides `name`, if any."""
        return next((var for var in PROVIDER_ENVIRONMENT.get(name, ()) if os.environ.get(var, "").strip()), None)
