"""Which provider serves `provider/model`, built from the settings and the secret store.

SDKs load only when a provider is first used (each costs 1–3 s to import).
"""

from __future__ import annotations

from mai_tui.config import Settings
from mai_tui.core.errors import InvalidInput
from mai_tui.core.providers.base import Provider
from mai_tui.core.secrets import SecretStore
from mai_tui.i18n import _

BUILTIN = ("openai", "anthropic", "gemini", "openrouter", "ollama")
DEFAULT_BASE_URLS = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
    "gemini": "https://generativelanguage.googleapis.com",
    "openrouter": "https://openrouter.ai/api/v1",
    "ollama": "http://localhost:11434",
}
# OpenRouter's app attribution; the title carries WEBUI_NAME.
OPENROUTER_REFERER = "https://github.com/mai-tui/mai-tui"


def split_model(name: str, settings: Settings) -> tuple[str, str]:
    """`openrouter/deepseek/deepseek-chat` -> ("openrouter", "deepseek/deepseek-chat")."""
    provider, _sep, model = name.strip().partition("/")
    known = (*BUILTIN, *settings.providers.custom)
    if not model or provider not in known:
        raise InvalidInput(
            _("'{name}' is not a model name; use PROVIDER/MODEL with PROVIDER one of: {choices}").format(
                name=name, choices=", ".join(known)
            )
        )
    return provider, model


class Providers:
    """The providers of one app context, each built once."""

    def __init__(self, settings: Settings, secrets: SecretStore, *, org: str | None = None) -> None:
        self.settings = settings
        self.secrets = secrets
        self.org = org  # the paying organization: its own OpenRouter key is used when it has one
        self._built: dict[str, Provider] = {}

    def names(self) -> list[str]:
        return [*BUILTIN, *self.settings.providers.custom]

    def base_url(self, name: str) -> str:
        custom = self.settings.providers.custom.get(name)
        if custom is not None:
            return custom.base_url
        configured = getattr(self.settings.providers, name).base_url
        return str(configured or DEFAULT_BASE_URLS[name])

    def is_configured(self, name: str) -> bool:
        """Has what it needs to be called: a key, or (Ollama, custom) an address."""
        if name in self.settings.providers.custom:
            return True
        if name == "ollama":
            return self.settings.providers.ollama.base_url is not None
        return self._key(name) is not None

    def _key(self, name: str) -> str | None:
        if name == "openrouter":
            from mai_tui.core.secrets import openrouter_key

            return openrouter_key(self.secrets, self.org)[0]
        secret = self.secrets.get(name) if name != "ollama" else None
        return secret.value if secret else None

    def get(self, name: str) -> Provider:
        if name not in self.names():
            raise InvalidInput(_("unknown provider '{name}'").format(name=name))
        provider = self._built.get(name)
        if provider is None:
            provider = self._build(name)
            self._built[name] = provider
        return provider

    def _build(self, name: str) -> Provider:
        key = self._key(name)
        timeout, brand = self.settings.provider_timeout, self.settings.webui_name
        base_url = self.base_url(name)
        if name == "anthropic":
            from mai_tui.core.providers.anthropic_provider import AnthropicProvider

            return AnthropicProvider(name, base_url, key, timeout=timeout, brand=brand)
        if name == "gemini":
            from mai_tui.core.providers.gemini import GeminiProvider

            return GeminiProvider(name, base_url, key, timeout=timeout, brand=brand)
        if name == "ollama":
            from mai_tui.core.providers.ollama import OllamaProvider

            return OllamaProvider(name, base_url, None, timeout=timeout, brand=brand)
        from mai_tui.core.providers.openai_compat import OpenAICompatible

        headers = {}
        if name == "openrouter":
            brand = self.settings.webui_name
            headers = {"HTTP-Referer": OPENROUTER_REFERER, "X-OpenRouter-Title": brand, "X-Title": brand}
        built = OpenAICompatible(name, base_url, key, extra_headers=headers, timeout=timeout, brand=brand)
        if name == "openrouter":  # the ledger records which key a call really used
            from mai_tui.core.secrets import openrouter_key

            built.org_key_hash = openrouter_key(self.secrets, self.org)[1]
        return built

    async def aclose(self) -> None:
        for provider in self._built.values():
            await provider.close()
        self._built.clear()
