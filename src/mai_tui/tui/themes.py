"""Register the shipped and user theme files as Textual themes."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.color import ColorParseError
from textual.theme import Theme

from mai_tui.core.themes import ThemeSpec, load_themes
from mai_tui.i18n import _
from mai_tui.locations import Paths
from mai_tui.resources import resource_dir


def to_textual(spec: ThemeSpec) -> Theme:
    colors: dict[str, Any] = spec.colors
    theme = Theme(name=spec.name, dark=spec.dark, variables=spec.variables, **colors)
    theme.to_color_system()  # parse every colour now, so a typo is reported, not crashed on later
    return theme


def register_themes(app: App[Any], paths: Paths) -> list[str]:
    """Register every theme; returns readable problems for files that were skipped."""
    specs, problems = load_themes([resource_dir("themes"), paths.config_dir / "themes"])
    for spec in specs:
        try:
            app.register_theme(to_textual(spec))
        except ColorParseError as error:
            problems.append(_("{file}: bad colour ({reason})").format(file=spec.source, reason=error))
    return problems
