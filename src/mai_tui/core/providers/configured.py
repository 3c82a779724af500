"""Is there anything to chat with yet? The providers that can be called, and the default model.

The help screen's getting-started page and the chat's welcome panel ask this; it reads keys
(environment, OS keyring, key file), so callers run it off the UI thread.
"""

from __future__ import annotations

from dataclasses import dataclass

from mai_tui.config import Settings
from mai_tui.core.errors import MaiError
from mai_tui.core.providers.registry import Providers, split_model
from mai_tui.core.secrets import SecretStore

# The providers a key unlocks, in the order a newcomer is pointed at them (OpenRouter: one key, many models).
KEY_PROVIDERS = ("openrouter", "openai", "anthropic", "gemini")


@dataclass(frozen=True)
class ProviderSetup:
    """What is configured: providers that can be called, and the default model."""

    configured: tuple[str, ...]  # a key, or (Ollama, custom endpoints) an address
    default_model: str | None
    default_provider_configured: bool  # the default model's provider is among `configured`

    @property
    def ready(self) -> bool:
        """At least one provider can be called."""
        return bool(self.configured)


def provider_setup(settings: Settings, secrets: SecretStore, *, org: str | None = None) -> ProviderSetup:
    """Which providers `org`'s members can call (an org's own OpenRouter key counts) and the default model.

    A key store that cannot be read counts as no key: the call would fail the same way.
    """
    providers = Providers(settings, secrets, org=org)
    configured = []
    for name in providers.names():
        try:
            if providers.is_configured(name):
                configured.append(name)
        except MaiError:
            continue
    default_model = settings.default_model or None
    default_provider: str | None = None
    if default_model:
        try:
            default_provider = split_model(default_model, settings)[0]
        except MaiError:
            default_provider = None  # not PROVIDER/MODEL: reported when the user sends
    return ProviderSetup(tuple(configured), default_model, default_provider in configured)
