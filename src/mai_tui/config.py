"""Settings: defaults < config.toml < environment.

The file is `$XDG_CONFIG_HOME/mai/config.toml` (or `MAI_CONFIG`); its keys are lowercase and
dotted (`log_level`, `providers.openai.base_url`, `providers.custom.NAME.base_url`). The
environment uses the seed's uppercase names (`WEBUI_NAME`, `LOG_LEVEL`, `DATABASE_URL`,
`OLLAMA_BASE_URL`, ...) and wins over the file. API keys are not settings: see
`mai_tui.core.secrets`.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from mai_tui.core.errors import ConfigError
from mai_tui.core.themes import parse_color
from mai_tui.i18n import _
from mai_tui.locations import DEFAULT_BRAND, DEFAULT_THEME, ENVIRONMENT_VARIABLES, Paths

__all__ = ["ENVIRONMENT_VARIABLES", "Paths", "Settings", "load_settings", "set_config_value", "settings_as_dict"]


# --- the settings model -------------------------------------------------------------


def _http_url(value: str | None) -> str | None:
    if value is not None and not value.startswith(("http://", "https://")):
        raise ValueError("expected an http:// or https:// URL")
    return value.rstrip("/") if value else value


HttpUrl = Annotated[str | None, AfterValidator(_http_url)]


def _opaque_color(value: str | None) -> str | None:
    if value is not None and parse_color(value).a != 1:  # parse_color raises a readable ValueError
        raise ValueError(_("see-through: the header needs a solid colour"))
    return value


BrandColor = Annotated[str | None, AfterValidator(_opaque_color)]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ProviderSettings(_Strict):
    base_url: HttpUrl = None


class CustomProviderSettings(_Strict):
    """An OpenAI-compatible endpoint, addressed as `NAME/model`."""

    base_url: Annotated[str, AfterValidator(_http_url)]


class ProvidersSettings(_Strict):
    openai: ProviderSettings = Field(default_factory=ProviderSettings)
    anthropic: ProviderSettings = Field(default_factory=ProviderSettings)
    gemini: ProviderSettings = Field(default_factory=ProviderSettings)
    openrouter: ProviderSettings = Field(default_factory=ProviderSettings)
    ollama: ProviderSettings = Field(default_factory=ProviderSettings)
    custom: dict[str, CustomProviderSettings] = Field(default_factory=dict)


class VoiceSettings(_Strict):
    """Voice notes: `model` is "bundled" (tiny.en, offline), a CTranslate2 model folder, or a
    faster-whisper model name (fetched only when the hub is reachable and HF_HUB_OFFLINE is off)."""

    model: str = "bundled"
    language: str | None = None  # None: English for English-only models, else detected
    send_at_once: bool = False  # False: the transcript lands in the prompt box for editing
    max_seconds: int = Field(120, ge=5, le=3600)  # a recording stops itself after this long


class KnowledgeSettings(_Strict):
    """Knowledge bases: `embedder` is "minilm" (English, offline), "e5-multilingual" (offline,
    about 100 languages) or "PROVIDER:MODEL" (openai, ollama or a custom endpoint's NAME). A
    collection keeps the embedder it was built with; this one applies to new collections."""

    embedder: str = Field("minilm", min_length=1)
    chunk_size: int = Field(1000, ge=100, le=20000)  # characters per chunk
    chunk_overlap: int = Field(100, ge=0, le=5000)  # characters shared by neighbouring chunks
    top_k: int = Field(5, ge=1, le=50)  # chunks a question retrieves
    min_score: float | None = Field(None, ge=0, le=1)  # relevance below this is dropped (None: keep all)
    max_file_mb: int = Field(50, ge=1, le=2048)  # larger files are refused at ingestion

    @model_validator(mode="after")
    def _overlap_below_half_a_chunk(self) -> KnowledgeSettings:
        if self.chunk_overlap * 2 >= self.chunk_size:
            raise ValueError(
                _("chunk_overlap ({overlap}) must be less than half of chunk_size ({size})").format(
                    overlap=self.chunk_overlap, size=self.chunk_size
                )
            )
        return self


def _upper(value: Any) -> Any:
    return value.upper() if isinstance(value, str) else value


class Settings(BaseSettings):
    """Every setting of the app, validated. Build it with `load_settings()`."""

    model_config = SettingsConfigDict(extra="forbid", validate_default=True)

    webui_name: str = Field(DEFAULT_BRAND, min_length=1, max_length=40)
    env: Literal["dev", "prod"] = "prod"
    log_level: Annotated[LogLevel, BeforeValidator(_upper)] = "INFO"
    database_url: str | None = None
    default_model: str | None = None
    title_model: str | None = None  # a small model that names new conversations (none: first line of the prompt)
    language: str | None = None
    theme: str = DEFAULT_THEME
    brand_color: BrandColor = None  # the header's background: #RRGGBB or a colour name; None: the theme's
    hf_hub_offline: bool = True
    openrouter_usage_sync_interval: int = Field(600, ge=10)
    openrouter_usage_sync_days_back: int = Field(1, ge=0, le=90)
    provider_timeout: float = Field(60.0, gt=0, le=3600)
    send_on_enter: bool = True  # False: Enter inserts a newline and Ctrl+J sends
    keymap: dict[str, str] = Field(default_factory=dict)  # binding id -> keys, e.g. "chat.stop" = "ctrl+x"
    providers: ProvidersSettings = Field(default_factory=ProvidersSettings)
    voice: VoiceSettings = Field(default_factory=VoiceSettings)
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_file = Paths.from_environment().config_file
        return (init_settings, SeedEnvironment(settings_cls), TomlConfigSettingsSource(settings_cls, toml_file))


class SeedEnvironment(PydanticBaseSettingsSource):
    """Reads the seed's uppercase environment variables into the nested settings shape."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ builds the whole dict

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for variable, dotted in ENVIRONMENT_VARIABLES.items():
            raw = os.environ.get(variable)
            if raw is None or raw == "":
                continue
            node = values
            *parents, leaf = dotted.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = raw
        return values


# --- loading, with one readable line per mistake ----------------------------------------


def _environment_variable_for(dotted: str) -> str | None:
    return next((var for var, key in ENVIRONMENT_VARIABLES.items() if key == dotted and os.environ.get(var)), None)


def _describe(error: ErrorDetails) -> str:
    kind = error["type"]
    ctx = error.get("ctx") or {}
    if kind == "literal_error":
        return _("expected one of {choices}").format(choices=ctx.get("expected", ""))
    if kind == "extra_forbidden":
        return _("unknown setting")
    if kind in {"int_parsing", "int_type"}:
        return _("expected a whole number")
    if kind in {"bool_parsing", "bool_type"}:
        return _("expected true or false")
    if kind in {"string_type"}:
        return _("expected text")
    if kind in {"greater_than_equal", "less_than_equal", "greater_than", "less_than"}:
        bounds = ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in ctx.items())
        return _("out of range ({bounds})").format(bounds=bounds)
    if kind == "missing":
        return _("a value is required")
    message = str(error.get("msg", kind))
    return message.removeprefix("Value error, ")


def _format_validation_error(error: ValidationError, config_file: Path) -> str:
    first = error.errors()[0]
    dotted = ".".join(str(part) for part in first["loc"])
    got = first.get("input")
    got_text = "" if isinstance(got, dict) or got is None else _(" (got {value!r})").format(value=got)
    variable = _environment_variable_for(dotted)
    where = (
        _("environment variable {name}").format(name=variable)
        if variable
        else _("{file}: key '{key}'").format(file=config_file, key=dotted)
    )
    more = len(error.errors()) - 1
    suffix = _(" (and {n} more)").format(n=more) if more else ""
    return f"{where}: {_describe(first)}{got_text}{suffix}"


def load_settings(**overrides: Any) -> Settings:
    """Build the settings, raising `ConfigError` with one clear line on any mistake."""
    config_file = Paths.from_environment().config_file
    try:
        return Settings(**overrides)
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(_("{file}: not valid TOML: {reason}").format(file=config_file, reason=error)) from None
    except ValidationError as error:
        raise ConfigError(_format_validation_error(error, config_file)) from None
    except OSError as error:
        raise ConfigError(
            _("{file}: cannot be read: {reason}").format(file=config_file, reason=error.strerror)
        ) from None


# --- editing the file ---------------------------------------------------------------------


def set_config_value(key: str, raw_value: str) -> Any:
    """Write `key = value` into config.toml, keeping the user's comments and layout.

    VALUE is text as typed on the command line; it is converted to the setting's type
    (`600` becomes a number, `true` a boolean). The value is validated with the whole file
    before anything is written; an invalid key or value raises `ConfigError` and leaves the
    file untouched.
    """
    import tomlkit

    config_file = Paths.from_environment().config_file
    parts = key.split(".")
    if not all(parts):
        raise ConfigError(_("'{key}' is not a valid setting name").format(key=key))
    text = config_file.read_text(encoding="utf-8") if config_file.exists() else ""
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.TOMLKitError as error:
        raise ConfigError(_("{file}: not valid TOML: {reason}").format(file=config_file, reason=error)) from None
    node: Any = document
    for part in parts[:-1]:
        if part not in node:
            node[part] = tomlkit.table()
        node = node[part]
        if not isinstance(node, dict):
            raise ConfigError(_("'{key}' is not a valid setting name").format(key=key))
    node[parts[-1]] = raw_value

    # Validate the new file on its own (the environment must not hide a bad value).
    candidate = document.unwrap()
    try:
        validated = Settings.model_validate(candidate)
    except ValidationError as error:
        raise ConfigError(_format_validation_error(error, config_file)) from None
    typed: Any = validated
    for part in parts:
        typed = typed.get(part) if isinstance(typed, dict) else getattr(typed, part)
    if isinstance(typed, bool | int | float | str):
        node[parts[-1]] = typed  # store the validated form: 600 not "600", "INFO" not "info"

    config_file.parent.mkdir(parents=True, exist_ok=True)
    temporary = config_file.with_suffix(".toml.tmp")
    temporary.write_text(tomlkit.dumps(document), encoding="utf-8")
    os.replace(temporary, config_file)
    return typed


def settings_as_dict(settings: Settings) -> dict[str, Any]:
    """The effective settings as plain data, with the password in DATABASE_URL masked."""
    data = settings.model_dump(mode="json")
    if settings.database_url:
        from sqlalchemy.engine import make_url
        from sqlalchemy.exc import ArgumentError

        try:
            data["database_url"] = make_url(settings.database_url).render_as_string(hide_password=True)
        except ArgumentError:
            data["database_url"] = "***"
    return data
