"""Theme files: TOML data in `themes/` (shipped) and in the user's config folder.

Parsing lives in the core so it is testable without a terminal (and `mai doctor` can list
broken files); the TUI turns each `ThemeSpec` into a Textual theme. Colours are checked
here with the same formats Textual accepts, and `contrast_ratio` measures readability the
way WCAG 2.x does.
"""

from __future__ import annotations

import colorsys
import difflib
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

from mai_tui.core.color_names import COLOR_NAMES
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

AA_TEXT = 4.5  # WCAG 2.x level AA: the least contrast for normal-size text
TERMINAL_DEFAULT = "ansi_default"  # the terminal's own colour: valid in a theme, but of unknown value


# --- colours --------------------------------------------------------------------------


class Rgba(NamedTuple):
    """One colour: 0-255 channels and an opacity from 0 to 1."""

    r: int
    g: int
    b: int
    a: float = 1.0

    def over(self, below: Rgba) -> Rgba:
        """This colour painted on top of `below` (which is taken as opaque)."""
        mix = [round(top * self.a + under * (1 - self.a)) for top, under in zip(self[:3], below[:3], strict=True)]
        return Rgba(mix[0], mix[1], mix[2])

    @property
    def hex(self) -> str:
        return f"#{self.r:02X}{self.g:02X}{self.b:02X}"


_NUMBER = r"-?\d+\.?\d*"
_COMMA = r"\s*,\s*"
_FUNCTION = re.compile(
    rf"^(?P<kind>rgba?|hsla?)\(\s*(?P<args>{_NUMBER}%?(?:{_COMMA}{_NUMBER}%?){{2,3}})\s*\)$",
)


def _fraction(text: str) -> float:
    value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    return min(max(value, 0.0), 1.0)


def _from_function(kind: str, args: list[str]) -> Rgba | None:
    if len(args) != (4 if kind.endswith("a") else 3):
        return None
    if len(args) == 4 and args[3].endswith("%"):
        return None
    alpha = _fraction(args[3]) if len(args) == 4 else 1.0
    if kind.startswith("rgb"):
        if any(arg.endswith("%") for arg in args[:3]):
            return None
        r, g, b = (min(max(int(float(arg)), 0), 255) for arg in args[:3])
        return Rgba(r, g, b, alpha)
    hue, saturation, lightness = args[:3]
    if hue.endswith("%") or not (saturation.endswith("%") and lightness.endswith("%")):
        return None
    red, green, blue = colorsys.hls_to_rgb(float(hue) % 360 / 360, _fraction(lightness), _fraction(saturation))
    return Rgba(int(red * 255 + 0.5), int(green * 255 + 0.5), int(blue * 255 + 0.5), alpha)


def parse_color(text: str) -> Rgba:
    """Parse a colour the way Textual does: `#RGB`, `#RGBA`, `#RRGGBB`, `#RRGGBBAA`,
    `rgb(…)`, `rgba(…)`, `hsl(…)`, `hsla(…)`, a CSS name or an ANSI name (`ansi_red`).

    Raises ValueError with a readable reason (and a suggestion for a misspelt name). The
    terminal's default colour (`ansi_default`) has no fixed value, so it is refused here:
    see `check_color` for validation that accepts it.
    """
    value = text
    if value == TERMINAL_DEFAULT:
        raise ValueError(_("the terminal's own colour has no fixed value"))
    if value in COLOR_NAMES:
        return Rgba(*COLOR_NAMES[value])
    if value == "transparent":
        return Rgba(0, 0, 0, 0.0)
    digits = value[1:]
    if value.startswith("#") and len(digits) in (3, 4, 6, 8) and all(c in "0123456789abcdefABCDEF" for c in digits):
        if len(digits) in (3, 4):
            digits = "".join(c * 2 for c in digits)
        channels = [int(digits[i : i + 2], 16) for i in range(0, len(digits), 2)]
        return Rgba(channels[0], channels[1], channels[2], channels[3] / 255 if len(channels) == 4 else 1.0)
    match = _FUNCTION.match(value)
    if match:
        color = _from_function(match["kind"], re.split(_COMMA, match["args"]))
        if color is not None:
            return color
    reason = _("not a colour (use #RRGGBB or a colour name)")
    if not value.startswith(("#", "rgb", "hsl")):
        close = difflib.get_close_matches(value, [*COLOR_NAMES, "transparent", TERMINAL_DEFAULT], n=1)
        if close:
            reason += _("; did you mean '{name}'?").format(name=close[0])
    raise ValueError(reason)


def check_color(text: str) -> None:
    """Raise ValueError unless a theme may use `text` as a colour (`ansi_default` included)."""
    if text != TERMINAL_DEFAULT:
        parse_color(text)


def relative_luminance(color: Rgba) -> float:
    """WCAG 2.x relative luminance of an opaque colour: 0 for black, 1 for white."""

    def linear(channel: int) -> float:
        value = channel / 255
        return value / 12.92 if value <= 0.04045 else ((value + 0.055) / 1.055) ** 2.4

    return 0.2126 * linear(color.r) + 0.7152 * linear(color.g) + 0.0722 * linear(color.b)


def contrast_ratio(text: Rgba | str, background: Rgba | str) -> float:
    """WCAG 2.x contrast ratio of `text` on `background`, from 1 (none) to 21 (black on white).

    A translucent text colour is painted on the background first, as the terminal would show it;
    the background itself is taken as opaque.
    """
    back = Rgba(*(parse_color(background) if isinstance(background, str) else background)[:3])
    front = (parse_color(text) if isinstance(text, str) else text).over(back)
    lighter, darker = sorted((relative_luminance(front), relative_luminance(back)), reverse=True)
    return (lighter + 0.05) / (darker + 0.05)


def readable_text_on(background: Rgba | str) -> str:
    """Black or white, whichever reads better on `background` (for a brand-coloured header)."""
    black, white = contrast_ratio("#000000", background), contrast_ratio("#FFFFFF", background)
    return "#000000" if black > white else "#FFFFFF"


# --- theme files --------------------------------------------------------------------------


@dataclass(frozen=True)
class ThemeSpec:
    name: str
    dark: bool
    colors: dict[str, str]
    variables: dict[str, str] = field(default_factory=dict)
    source: Path | None = None
    ansi: bool = False  # colours are the terminal's own 16 (`ansi_*` names), sent as ANSI codes


def parse_theme(path: Path) -> ThemeSpec:
    """Read one theme file; raises ValueError with a readable reason that names the file."""
    try:
        data: dict[str, Any] = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as error:
        raise ValueError(_("{file}: cannot be read as TOML ({reason})").format(file=path, reason=error)) from None
    name = data.pop("name", None)
    if not isinstance(name, str) or not name:
        raise ValueError(_("{file}: 'name' is missing").format(file=path))
    if "primary" not in data:
        raise ValueError(_("{file}: 'primary' colour is missing").format(file=path))
    dark = data.pop("dark", True)
    ansi = data.pop("ansi", False)
    variables = data.pop("variables", {})
    unknown = sorted(set(data) - set(_COLOR_KEYS))
    if unknown:
        raise ValueError(_("{file}: unknown keys {keys}").format(file=path, keys=", ".join(unknown)))
    if not isinstance(dark, bool) or not isinstance(ansi, bool) or not isinstance(variables, dict):
        raise ValueError(_("{file}: 'dark' and 'ansi' must be true/false and 'variables' a table").format(file=path))
    for key, value in data.items():
        try:
            if not isinstance(value, str):
                raise ValueError(_("expected a colour in quotes"))
            check_color(value)
        except ValueError as error:
            raise ValueError(
                _("{file}: bad colour {key} = {value!r}: {reason}").format(
                    file=path, key=key, value=value, reason=error
                )
            ) from None
    return ThemeSpec(
        name,
        dark,
        {k: str(v) for k, v in data.items()},
        {str(k): str(v) for k, v in variables.items()},
        path,
        ansi,
    )


def readability_problems(spec: ThemeSpec) -> list[str]:
    """Text colours the theme sets that are hard to read on the backgrounds it sets (below WCAG AA).

    Only pairs the file states are measured (Textual fills in the rest, readably); colours
    that are the terminal's own are skipped, their value being unknown.
    """
    problems = []
    for background in ("background", "surface", "panel"):
        if "foreground" not in spec.colors or background not in spec.colors:
            continue
        try:
            ratio = contrast_ratio(spec.colors["foreground"], spec.colors[background])
        except ValueError:
            continue
        if ratio < AA_TEXT:
            problems.append(
                _(
                    "{file}: text is hard to read: foreground on {background} is {ratio:.1f}:1 (readable: {aa}:1)"
                ).format(file=spec.source or spec.name, background=background, ratio=ratio, aa=AA_TEXT)
            )
    return problems


def load_themes(folders: list[Path]) -> tuple[list[ThemeSpec], list[str]]:
    """All readable themes from `folders` (later folders override earlier), and the problems:
    one message per skipped file, and a warning per theme whose text is hard to read."""
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
            problems.extend(readability_problems(spec))
    return list(themes.values()), problems
