"""Where files live, which environment variable sets which setting, and a quick look at
one setting before the full settings are validated.

This module is deliberately light (no pydantic): the TUI reads its brand, theme and
language from here so its first frame does not wait for validation, which happens in a
worker right after (`mai_tui.config.load_settings`).
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import platformdirs

APP_NAME = "mai"
DEFAULT_BRAND = "mAI"
DEFAULT_THEME = "mai-dark"

# The seed's environment variable names and the dotted setting each one overrides.
ENVIRONMENT_VARIABLES: dict[str, str] = {
    "WEBUI_NAME": "webui_name",
    "WEBUI_BRAND_COLOR": "brand_color",
    "ENV": "env",
    "LOG_LEVEL": "log_level",
    "DATABASE_URL": "database_url",
    "HF_HUB_OFFLINE": "hf_hub_offline",
    "OPENROUTER_USAGE_SYNC_INTERVAL": "openrouter_usage_sync_interval",
    "OPENROUTER_USAGE_SYNC_DAYS_BACK": "openrouter_usage_sync_days_back",
    "MAI_DEFAULT_MODEL": "default_model",
    "MAI_TITLE_MODEL": "title_model",
    "MAI_LANGUAGE": "language",
    "MAI_THEME": "theme",
    "MAI_PROVIDER_TIMEOUT": "provider_timeout",
    "OPENAI_BASE_URL": "providers.openai.base_url",
    "ANTHROPIC_BASE_URL": "providers.anthropic.base_url",
    "GEMINI_BASE_URL": "providers.gemini.base_url",
    "OPENROUTER_BASE_URL": "providers.openrouter.base_url",
    "OLLAMA_BASE_URL": "providers.ollama.base_url",
}


@dataclass(frozen=True)
class Paths:
    """The folders and files the app uses (see DESIGN.md "Files and environment")."""

    config_file: Path
    config_dir: Path
    data_dir: Path
    state_dir: Path

    @property
    def database_file(self) -> Path:
        return self.data_dir / "mai.db"

    @property
    def lancedb_dir(self) -> Path:
        return self.data_dir / "lancedb"

    @property
    def models_dir(self) -> Path:
        return self.data_dir / "models"

    @property
    def log_file(self) -> Path:
        return self.state_dir / "mai.log"

    @property
    def secrets_file(self) -> Path:
        return self.config_dir / "secrets.json"

    @classmethod
    def from_environment(cls) -> Paths:
        config_dir = Path(platformdirs.user_config_dir(APP_NAME))
        config_file = Path(os.environ.get("MAI_CONFIG") or config_dir / "config.toml")
        data_dir = Path(os.environ.get("MAI_DATA_DIR") or platformdirs.user_data_dir(APP_NAME))
        state_dir = Path(platformdirs.user_state_dir(APP_NAME))
        return cls(config_file.expanduser(), config_dir, data_dir.expanduser(), state_dir)


def peek(dotted: str, default: str) -> str:
    """One text setting, environment over file over `default`, *without* validation.

    Only for what the first frame shows; a missing, unreadable or non-text value gives
    `default`, and the full validation in `load_settings()` reports the mistake.
    """
    for variable, key in ENVIRONMENT_VARIABLES.items():
        if key == dotted and os.environ.get(variable):
            return os.environ[variable]
    try:
        node: Any = tomllib.loads(Paths.from_environment().config_file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return default
    for part in dotted.split("."):
        node = node.get(part) if isinstance(node, dict) else None
    return node if isinstance(node, str) and node else default
