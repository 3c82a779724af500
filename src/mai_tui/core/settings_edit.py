"""The settings as a form: what each setting is, and saving a batch of changes.

The description comes from the pydantic model in `mai_tui.config` (types, bounds, Literal
choices, nested sections), so a new setting shows up in the settings screen without a
hand-kept list; only its help text is written here. Saving applies every change to
config.toml, validates the whole file once, and writes it once, keeping the user's comments
(tomlkit), the way `mai config set` does. API keys never go to the file: they are stored
through the secret store.
"""

from __future__ import annotations

import os
import re
import types
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from mai_tui.config import Settings, _describe, _http_url
from mai_tui.core.errors import ConfigError
from mai_tui.core.secrets import PROVIDER_ENVIRONMENT, SecretStore, Source
from mai_tui.i18n import _
from mai_tui.locations import ENVIRONMENT_VARIABLES, Paths
from mai_tui.resources import resource_dir

__all__ = [
    "SECTIONS",
    "InvalidSettings",
    "KeyStatus",
    "Saved",
    "SettingInfo",
    "available_languages",
    "describe_keys",
    "describe_settings",
    "key_problem",
    "save_settings",
]

Kind = Literal["text", "url", "int", "float", "bool", "choice"]

# The screen's sections, in order. Nested models are their own section; top-level settings
# are "general" unless named here.
SECTIONS = ("general", "providers", "knowledge", "voice", "sync", "keymap", "advanced")
_TOP_LEVEL_SECTION = {
    "openrouter_usage_sync_interval": "sync",
    "openrouter_usage_sync_days_back": "sync",
    "env": "advanced",
    "database_url": "advanced",
    "hf_hub_offline": "advanced",
}
_SENSITIVE = {"database_url"}  # may hold a password: shown masked
_CUSTOM_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")


@dataclass(frozen=True)
class SettingInfo:
    """One editable setting as the settings screen shows it."""

    key: str  # dotted: "knowledge.chunk_size", "providers.custom.lab.base_url", "keymap.chat.stop"
    section: str
    kind: Kind
    value: Any  # the effective value (the environment's when it sets one)
    default: Any
    help: str
    optional: bool = False  # may be left empty ("not set")
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    environment: str | None = None  # the variable that sets it: read-only, the environment wins
    sensitive: bool = False

    @property
    def editable(self) -> bool:
        return self.environment is None

    @property
    def text(self) -> str:
        """The value as typed in a text field ("" when not set)."""
        return as_text(self.value)

    @property
    def default_text(self) -> str:
        return as_text(self.default)

    @property
    def bounds(self) -> str:
        """ "10 – 3600", "at least 10", or "" (for the help line)."""
        low, high = (as_text(bound) for bound in (self.minimum, self.maximum))
        if low and high:
            return f"{low} – {high}"
        if low:
            return _("at least {n}").format(n=low)
        return _("at most {n}").format(n=high) if high else ""


def as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


@dataclass(frozen=True)
class KeyStatus:
    """Whether an API key is there and where it comes from; never its value."""

    name: str
    source: Source | None  # None: no key
    environment: str | None  # the variable that provides it (it wins over a stored key)

    @property
    def stored(self) -> bool:
        return self.source in (Source.KEYRING, Source.FILE)


@dataclass
class Saved:
    """What a save changed: each key's stored value (None: removed, back to the default)."""

    values: dict[str, Any] = field(default_factory=dict)
    keys: list[str] = field(default_factory=list)  # API keys stored


class InvalidSettings(ConfigError):
    """Some changes are not valid; nothing was written. `problems` maps each key to its reason."""

    def __init__(self, problems: dict[str, str]) -> None:
        self.problems = problems
        file = Paths.from_environment().config_file
        lines = [
            _("{file}: key '{key}'").format(file=file, key=key) + f": {reason}" for key, reason in problems.items()
        ]
        super().__init__("; ".join(lines))


# --- describing ---------------------------------------------------------------------------


def _help(key: str) -> str:
    """The help line of a setting (looked up at call time: it follows the language)."""
    parts = key.split(".")
    if parts[0] == "providers" and len(parts) == 3 and parts[2] == "base_url":
        return _("The {provider} API address (empty: its usual one)").format(provider=parts[1])
    if parts[:2] == ["providers", "custom"] and len(parts) == 4:
        return _("An OpenAI-compatible endpoint, used as {name}/model").format(name=parts[2])
    texts = {
        "webui_name": _("The name in the title bar and on the welcome screen"),
        "env": _("dev or prod, as in the web app"),
        "log_level": _("How much goes into the log file"),
        "database_url": _("The database (empty: SQLite in the data folder); PostgreSQL and MySQL URLs work too"),
        "default_model": _("The model of new conversations, as provider/model"),
        "title_model": _("A small model that names new conversations (empty: the first line of the prompt)"),
        "language": _("The language of the app (empty: from the environment)"),
        "theme": _("The colours of the app"),
        "brand_color": _("The header's colour: #RRGGBB or a colour name (empty: the theme's)"),
        "hf_hub_offline": _("Never download models from the Hugging Face hub"),
        "openrouter_usage_sync_interval": _("Seconds between two OpenRouter usage syncs"),
        "openrouter_usage_sync_days_back": _("Days each sync looks back"),
        "provider_timeout": _("Seconds to wait for a provider before giving up"),
        "send_on_enter": _("Enter sends the prompt (off: Enter adds a line and Ctrl+J sends)"),
        "voice.model": _('"bundled" (offline), a CTranslate2 model folder or a faster-whisper model name'),
        "voice.language": _("The language spoken (empty: English for English-only models, else detected)"),
        "voice.send_at_once": _("Send the transcript at once (off: it lands in the prompt box for editing)"),
        "voice.max_seconds": _("A recording stops itself after this many seconds"),
        "knowledge.embedder": _(
            '"minilm" (English, offline), "e5-multilingual" (offline) or PROVIDER:MODEL; for new collections'
        ),
        "knowledge.chunk_size": _("Characters per chunk"),
        "knowledge.chunk_overlap": _("Characters shared by neighbouring chunks (less than half a chunk)"),
        "knowledge.top_k": _("Chunks a question retrieves"),
        "knowledge.min_score": _("Passages less relevant than this are dropped (empty: keep all)"),
        "knowledge.max_file_mb": _("Larger files are refused when added (MB)"),
    }
    return texts.get(key, "")


def available_languages() -> list[str]:
    """English (the source) and every language with a compiled catalog in `locales/`."""
    try:
        folder = resource_dir("locales")
    except FileNotFoundError:
        return ["en"]
    found = sorted(path.parent.parent.name for path in folder.glob("*/LC_MESSAGES/mai.mo"))
    return ["en", *(language for language in found if language != "en")]


def _environment(key: str) -> str | None:
    return next((var for var, dotted in ENVIRONMENT_VARIABLES.items() if dotted == key and os.environ.get(var)), None)


def _unwrap_optional(annotation: Any) -> tuple[Any, bool]:
    if get_origin(annotation) in (Union, types.UnionType):
        args = [arg for arg in get_args(annotation) if arg is not type(None)]
        if len(args) == 1:
            return args[0], len(args) < len(get_args(annotation))
    return annotation, False


def _leaf(key: str, section: str, info: FieldInfo, value: Any, choices: Mapping[str, Iterable[str]]) -> SettingInfo:
    annotation, optional = _unwrap_optional(info.annotation)
    options: tuple[str, ...] = ()
    kind: Kind = "text"
    if get_origin(annotation) is Literal:
        kind, options = "choice", tuple(str(arg) for arg in get_args(annotation))
    elif annotation is bool:
        kind = "bool"
    elif annotation is int:
        kind = "int"
    elif annotation is float:
        kind = "float"
    elif any(getattr(rule, "func", None) is _http_url for rule in info.metadata):
        kind = "url"
    if key in choices:
        kind, options = "choice", tuple(dict.fromkeys([*choices[key], *([as_text(value)] if value else [])]))
    minimum = maximum = None
    for rule in info.metadata:  # annotated_types' Ge, Gt, Le, Lt
        minimum = next((b for b in (getattr(rule, "ge", None), getattr(rule, "gt", None)) if b is not None), minimum)
        maximum = next((b for b in (getattr(rule, "le", None), getattr(rule, "lt", None)) if b is not None), maximum)
    return SettingInfo(
        key=key,
        section=section,
        kind=kind,
        value=value,
        default=None if info.is_required() else info.get_default(call_default_factory=True),
        help=_help(key),
        optional=optional,
        choices=options,
        minimum=minimum,
        maximum=maximum,
        environment=_environment(key),
        sensitive=key in _SENSITIVE,
    )


def _walk(
    values: BaseModel,
    prefix: str,
    section: str | None,
    bindings: Mapping[str, tuple[str, str]],
    choices: Mapping[str, Iterable[str]],
) -> Iterator[SettingInfo]:
    for name, info in type(values).model_fields.items():
        key = f"{prefix}{name}"
        here = section or _TOP_LEVEL_SECTION.get(name, "general")
        value = getattr(values, name)
        annotation, _optional = _unwrap_optional(info.annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            yield from _walk(value, f"{key}.", section or name, bindings, choices)
        elif get_origin(annotation) is dict:
            item = get_args(annotation)[1]
            if isinstance(item, type) and issubclass(item, BaseModel):  # e.g. providers.custom.NAME
                for entry, entry_values in value.items():
                    yield from _walk(entry_values, f"{key}.{entry}.", here, bindings, choices)
            else:  # the keymap: one row per binding id the app has, and any other id in the file
                for binding_id in dict.fromkeys([*bindings, *value]):
                    keys, description = bindings.get(binding_id, ("", ""))
                    yield SettingInfo(
                        key=f"{key}.{binding_id}",
                        section=name,
                        kind="text",
                        value=value.get(binding_id),
                        default=keys or None,
                        help=description,
                        optional=True,
                    )
        else:
            yield _leaf(key, here, info, value, choices)


def describe_settings(
    settings: Settings,
    *,
    bindings: Mapping[str, tuple[str, str]] | None = None,
    choices: Mapping[str, Iterable[str]] | None = None,
) -> list[SettingInfo]:
    """Every editable setting with its current value, in the model's order.

    `bindings` maps each binding id of the app to its default keys and description (the
    keymap rows); `choices` offers a list for a text setting (e.g. the registered themes).
    The language choices are the catalogs in `locales/`.
    """
    offered: dict[str, Iterable[str]] = {"language": available_languages(), **(choices or {})}
    return list(_walk(settings, "", None, bindings or {}, offered))


def describe_keys(store: SecretStore, names: Iterable[str] | None = None) -> list[KeyStatus]:
    """Which API keys are there and where they come from (the values are not returned)."""
    statuses = []
    for name in names if names is not None else store.known_names():
        secret = store.get(name)
        statuses.append(KeyStatus(name, secret.source if secret else None, store.environment_variable(name)))
    return statuses


def key_problem(value: str) -> str | None:
    """Why `value` cannot be stored as an API key, or None (the secret store's own rules)."""
    value = value.strip()
    if not value:
        return _("the key is empty")
    if any(ch.isspace() for ch in value):
        return _("a key cannot contain spaces or line breaks")
    return None


# --- saving ---------------------------------------------------------------------------------


def _path(key: str) -> tuple[str, ...]:
    """The TOML path of a dotted key: binding ids and custom names keep their own dots."""
    parts = key.split(".")
    if parts[0] == "keymap" and len(parts) > 1:
        return ("keymap", ".".join(parts[1:]))
    return tuple(parts)


def _reason(error: ErrorDetails) -> str:
    context = error.get("ctx") or {}
    bound = {
        "greater_than_equal": _("must be at least {n}"),
        "greater_than": _("must be more than {n}"),
        "less_than_equal": _("must be at most {n}"),
        "less_than": _("must be less than {n}"),
    }.get(error["type"])
    if bound and context:
        return bound.format(n=next(iter(context.values())))
    if error["type"] == "missing" and error["loc"][-1] == "base_url":
        return _("an address is required")
    return _describe(error)


def _problems(error: ValidationError, changed: Iterable[str]) -> dict[str, str]:
    """One reason per key; a rule about a whole section goes to the changed keys in it."""
    problems: dict[str, str] = {}
    changed = list(changed)
    for detail in error.errors():
        key = ".".join(str(part) for part in detail["loc"])
        got = detail.get("input")
        reason = _reason(detail)
        if not isinstance(got, dict | list) and got is not None and detail["type"] != "value_error":
            reason += _(" (got {value!r})").format(value=got)
        inside = [name for name in changed if name.startswith(f"{key}.")]
        for name in inside or [key]:
            problems.setdefault(name, reason)
    return problems


def _checks(changes: Mapping[str, Any]) -> dict[str, str]:
    """Rules the model does not hold: keymap key lists and custom endpoint names."""
    problems: dict[str, str] = {}
    builtin = set(PROVIDER_ENVIRONMENT) | {"ollama"}
    for key, value in changes.items():
        path = _path(key)
        if path[0] == "keymap" and len(path) == 2 and isinstance(value, str) and value.strip():
            keys = [part.strip() for part in value.split(",")]
            if not all(keys) or any(" " in part for part in keys):
                problems[key] = _("keys are separated by commas, e.g. ctrl+x,f8")
        if path[:2] == ("providers", "custom") and len(path) > 2:
            name = path[2]
            if not _CUSTOM_NAME.match(name):
                problems[key] = _("an endpoint name has letters, digits, - and _ only")
            elif name in builtin:
                problems[key] = _("'{name}' is a built-in provider").format(name=name)
    return problems


def _set(document: Any, path: tuple[str, ...], value: Any) -> None:
    import tomlkit

    node = document
    for part in path[:-1]:
        if part not in node:
            node[part] = tomlkit.table()
        node = node[part]
        if not isinstance(node, dict):
            raise InvalidSettings({".".join(path): _("unknown setting")})
    node[path[-1]] = value


def _remove(document: Any, path: tuple[str, ...]) -> None:
    """Remove a key (back to its default), then its tables if that left them empty and bare."""
    nodes = [document]
    for part in path[:-1]:
        node = nodes[-1].get(part) if isinstance(nodes[-1], dict) else None
        if not isinstance(node, dict):
            return
        nodes.append(node)
    if path[-1] not in nodes[-1]:
        return
    del nodes[-1][path[-1]]
    for depth in range(len(nodes) - 1, 0, -1):
        table = nodes[depth]
        if len(table) or "#" in table.as_string():  # still holds settings or the user's comments
            break
        del nodes[depth - 1][path[depth - 1]]


def _typed(validated: Settings, path: tuple[str, ...]) -> Any:
    node: Any = validated
    for part in path:
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
    return node


def save_settings(
    changes: Mapping[str, Any],
    *,
    keys: Mapping[str, str] | None = None,
    store: SecretStore | None = None,
) -> Saved:
    """Write `changes` (dotted key -> value) to config.toml at once, then store `keys`.

    A value is text as typed (converted to the setting's type: "600" becomes 600), a bool or
    a number; None or empty text removes the key, so the setting goes back to its default.
    Every change and key is checked first, with the whole file: if anything is invalid,
    `InvalidSettings` names each bad key and nothing is written. The user's comments and
    layout are kept. `keys` (provider name -> API key) go to the secret store `store`.
    """
    import tomlkit

    config_file = Paths.from_environment().config_file
    changes = {key: value.strip() if isinstance(value, str) else value for key, value in changes.items()}
    keys = {name: value for name, value in (keys or {}).items()}
    problems = _checks(changes)
    problems.update({f"keys.{name}": reason for name, value in keys.items() if (reason := key_problem(value))})
    if keys and store is None:
        raise ValueError("keys need a secret store")

    text = config_file.read_text(encoding="utf-8") if config_file.exists() else ""
    try:
        document = tomlkit.parse(text)
    except tomlkit.exceptions.TOMLKitError as error:
        raise ConfigError(_("{file}: not valid TOML: {reason}").format(file=config_file, reason=error)) from None
    for key, value in changes.items():
        if not all(key.split(".")):
            problems[key] = _("unknown setting")
        elif value is None or value == "":
            _remove(document, _path(key))
        else:
            _set(document, _path(key), value)

    # The file on its own must be valid: the environment must not hide a bad value.
    try:
        validated = Settings.model_validate(document.unwrap())
    except ValidationError as error:
        problems.update(_problems(error, changes))
        validated = None
    if problems or validated is None:
        raise InvalidSettings(problems)

    saved = Saved()
    for key, value in changes.items():
        path = _path(key)
        typed = None if value is None or value == "" else _typed(validated, path)
        if isinstance(typed, bool | int | float | str):
            _set(document, path, typed)  # the validated form: 600 not "600", "INFO" not "info"
        saved.values[key] = typed
    if changes:
        config_file.parent.mkdir(parents=True, exist_ok=True)
        temporary = config_file.with_suffix(".toml.tmp")
        temporary.write_text(tomlkit.dumps(document), encoding="utf-8")
        os.replace(temporary, config_file)
    for name, value in keys.items():
        assert store is not None
        store.set(name, value)
        saved.keys.append(name)
    return saved
