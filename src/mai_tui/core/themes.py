"""Theme files: TOML data in `themes/` (shipped) and in the user's config folder.

Parsing lives in the core so it is testable without a terminal; the TUI turns each
`ThemeSpec` into a Textual theme.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mai_tui.i18n import _

_COLOR_KEYS = (
    "primary",
    "secondary",
    "accent",
    "warning",
    "error",
    "success",
    "foreground",
    "background",
    "surface",
    "panel",
    "boost",
)


@dataclass(frozen=True)
class ThemeSpec:
    name: str
    dark: bool
    colors: dict[str, str]
    variables: dict[str, str] = field(default_factory=dict)
    source: Path | None = None


def parse_theme(path: Path) -> ThemeSpec:
    """Read one theme file; raises ValueError with a readable reason."""
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(_("{file}: cannot be read as TOML ({reason})").format(file=path, reason=error)) from None
    name = data.pop("name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(_("{file}: 'name' is missing").format(file=path))
    if not isinstance(data.get("primary"), str):
        raise ValueError(_("{file}: 'primary' colour is missing").format(file=path))
    dark = data.pop("dark", True)
    variables = data.pop("variables", {})
    unknown = sorted(set(data) - set(_COLOR_KEYS))
    if unknown:
        raise ValueError(_("{file}: unknown keys {keys}").format(file=path, keys=", ".join(unknown)))
    if not isinstance(dark, bool) or not isinstance(variables, dict):
        raise ValueError(_("{file}: 'dark' must be true/false and 'variables' a table").format(file=path))
    return ThemeSpec(
        name, dark, {k: str(v) for k, v in data.items()}, {str(k): str(v) for k, v in variables.items()}, path
    )


def load_themes(folders: list[Path]) -> tuple[list[ThemeSpec], list[str]]:
    """All readable themes from `folders` (later folders override earlier), and the problems."""
    themes: dict[str, ThemeSpec] = {}
    problems: list[str] = []
    for folder in folders:
        for path in sorted(folder.glob("*.toml")) if folder.is_dir() else []:
            try:
                spec = parse_theme(path)
            except ValueError as error:
                problems.append(str(error))
                continue
            themes[spec.name] = spec
    return list(themes.values()), problems
