"""Register the shipped and user theme files as Textual themes, and colour the header."""

from __future__ import annotations

from typing import Any

from textual.app import App
from textual.color import Color, ColorParseError
from textual.theme import Theme

from mai_tui.core.themes import TERMINAL_DEFAULT, ThemeSpec, load_themes, parse_color, readable_text_on
from mai_tui.i18n import _
from mai_tui.locations import Paths
from mai_tui.resources import resource_dir

# Variables the stylesheet (themes.tcss) reads for the header; a theme file may set them too.
HEADER_BACKGROUND = "header-background"
HEADER_FOREGROUND = "header-foreground"


def _check_variable(name: str, value: str) -> None:
    """A colour variable (`footer-background = "#123456 50%"`) must hold a colour Textual parses:
    a bad one would only fail when the theme is applied, and stop the app."""
    if name.endswith("style"):  # text styles: bold, underline, none...
        return
    first, _space, rest = value.partition(" ")
    if first in ("auto", "initial", "transparent"):
        return
    Color.parse(first)
    if rest and not (rest.endswith("%") and rest[:-1].replace(".", "", 1).isdigit()):
        raise ColorParseError(_("{value!r} is not an opacity (use 50%)").format(value=rest))


def _ansi_defaults(spec: ThemeSpec) -> dict[str, str]:
    """Variables Textual's stylesheets need that its ANSI colour system does not define (its own
    ANSI themes set them by hand): without them the app stops with a stylesheet error."""
    background = spec.colors.get("background", TERMINAL_DEFAULT)
    foreground = spec.colors.get("foreground", TERMINAL_DEFAULT)
    return {
        "ansi-background": background,
        "ansi-foreground": foreground,
        "foreground-disabled": foreground,
        "surface-active": "transparent",
    }


def to_textual(spec: ThemeSpec) -> Theme:
    """The Textual theme for a theme file; raises ColorParseError for a colour Textual refuses."""
    colors: dict[str, Any] = spec.colors
    variables = {**_ansi_defaults(spec), **spec.variables} if spec.ansi else spec.variables
    theme = Theme(name=spec.name, dark=spec.dark, variables=variables, ansi=spec.ansi, **colors)
    theme.to_color_system()  # parse every colour now, so a typo is reported, not crashed on later
    for name, value in spec.variables.items():
        try:
            _check_variable(name, value)
        except ColorParseError as error:
            raise ColorParseError(f"{name} = {value!r}: {error}") from None
    return theme


def register_themes(app: App[Any], paths: Paths) -> list[str]:
    """Register every theme; returns readable problems (files skipped, text hard to read)."""
    specs, problems = load_themes([resource_dir("themes"), paths.config_dir / "themes"])
    for spec in specs:
        try:
            app.register_theme(to_textual(spec))
        except ColorParseError as error:
            problems.append(_("{file}: bad colour ({reason})").format(file=spec.source, reason=error))
    return problems


def brand_color(text: str) -> str | None:
    """The brand colour setting if it is an opaque colour, else None (validation reports it)."""
    try:
        return text if text and parse_color(text).a == 1 else None
    except ValueError:
        return None


def header_variables(variables: dict[str, str], brand: str | None) -> dict[str, str]:
    """`variables` plus the header's colours: the brand colour with black or white text, whichever
    reads better on it; without a brand, what the theme says (by default Textual's own header)."""
    if brand:
        return {**variables, HEADER_BACKGROUND: brand, HEADER_FOREGROUND: readable_text_on(brand)}
    return {
        **variables,
        HEADER_BACKGROUND: variables.get(HEADER_BACKGROUND, variables["panel"]),
        HEADER_FOREGROUND: variables.get(HEADER_FOREGROUND, variables["foreground"]),
    }
