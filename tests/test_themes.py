"""Theme files: the shipped ones load and are readable, a user's broken file is skipped with its reason."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from rich._palettes import STANDARD_PALETTE
from rich.color import ColorSystem
from textual._color_constants import COLOR_NAME_TO_RGB
from textual.color import Color, ColorParseError

from mai_tui.config import load_settings
from mai_tui.core.color_names import COLOR_NAMES
from mai_tui.core.context import load_context
from mai_tui.core.doctor import Status, run_checks
from mai_tui.core.errors import ConfigError
from mai_tui.core.themes import (
    AA_TEXT,
    ThemeSpec,
    contrast_ratio,
    load_themes,
    parse_color,
    parse_theme,
    readable_text_on,
)
from mai_tui.locations import Paths, peek
from mai_tui.resources import resource_dir
from mai_tui.tui.themes import header_variables, to_textual


@pytest.fixture(autouse=True)
def no_brand_colour(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own brand colour must not leak in (tests/conftest.py does not know it)."""
    monkeypatch.delenv("WEBUI_BRAND_COLOR", raising=False)


SHIPPED = resource_dir("themes")
BUILT_IN = ["mai-16", "mai-dark", "mai-high-contrast", "mai-light"]

# Text the app shows, and the backgrounds it shows it on (app.tcss and Textual's own widgets).
TEXTS = ["foreground", "text", "foreground-muted", "text-muted", "text-disabled"]
COLORED_TEXTS = ["primary", "secondary", "accent", "warning", "error", "success"]
BACKGROUNDS = ["background", "surface", "panel", "boost"]
ON_THEIR_OWN_BACKGROUND = [  # (text, background) pairs of the footer, header, lists and selections
    ("footer-key-foreground", "footer-background"),
    ("footer-description-foreground", "footer-background"),
    ("footer-foreground", "footer-background"),
    ("header-foreground", "header-background"),
    ("block-cursor-foreground", "block-cursor-background"),
    ("block-cursor-blurred-foreground", "block-cursor-blurred-background"),
    ("input-selection-foreground", "input-selection-background"),
]


def theme_variables(name: str) -> dict[str, str]:
    """The variables the app's stylesheets see with this theme (as MaiApp.get_css_variables builds them)."""
    spec = parse_theme(SHIPPED / f"{name}.toml")
    variables = to_textual(spec).to_color_system().generate()
    return header_variables({**variables, **spec.variables}, None)


def paint(value: str, below: Color) -> Color:
    """A variable's value ("#fff", "#fff 60%", "auto 87%") as the terminal shows it on `below`."""
    token, _space, opacity = value.partition(" ")
    if token == "auto":
        color = below.get_contrast_text(float(opacity.rstrip("%")) / 100 if opacity else 1.0)
    else:
        color = Color.parse(token)
        if opacity:
            color = color.multiply_alpha(float(opacity.rstrip("%")) / 100)
    return below + color


def text_pairs(variables: dict[str, str]) -> list[tuple[str, str, Color, Color]]:
    """(text, background, text colour, background colour) for every pair the app uses."""
    screen = paint(variables["background"], Color(0, 0, 0))
    backgrounds = {name: paint(variables[name], screen) for name in BACKGROUNDS}
    pairs = [
        (text, background, paint(variables[text], color), color)
        for text in TEXTS
        for background, color in backgrounds.items()
    ]
    pairs += [
        (text, background, paint(variables[text], backgrounds[background]), backgrounds[background])
        for text in COLORED_TEXTS
        for background in ("background", "surface")
    ]
    for text, background in ON_THEIR_OWN_BACKGROUND:
        color = paint(variables[background], backgrounds["surface"])
        pairs.append((text, background, paint(variables[text], color), color))
    return pairs


# --- the shipped themes -------------------------------------------------------------


def test_every_built_in_theme_loads_and_converts_to_a_textual_theme() -> None:
    specs, problems = load_themes([SHIPPED])
    assert problems == []
    assert sorted(spec.name for spec in specs) == BUILT_IN
    for spec in specs:
        theme = to_textual(spec)
        assert theme.name == spec.name
        assert theme.to_color_system().generate()["primary"]


def test_contrast_ratio_follows_wcag() -> None:
    assert contrast_ratio("#000000", "#FFFFFF") == pytest.approx(21)
    assert contrast_ratio("#FFFFFF", "#000000") == pytest.approx(21)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1)
    assert contrast_ratio("#777777", "#FFFFFF") == pytest.approx(4.48, abs=0.01)  # WCAG's own example
    assert contrast_ratio("#FFFFFF80", "#000000") == contrast_ratio("#808080", "#000000")  # see-through text
    assert readable_text_on("#FFD700") == "#000000"
    assert readable_text_on("navy") == "#FFFFFF"


@pytest.mark.parametrize(("text", "background", "color", "below"), text_pairs(theme_variables("mai-high-contrast")))
def test_high_contrast_theme_is_readable_everywhere(text: str, background: str, color: Color, below: Color) -> None:
    ratio = contrast_ratio(color.hex6, below.hex6)
    assert ratio >= AA_TEXT, f"${text} ({color.hex6}) on ${background} ({below.hex6}) is only {ratio:.2f}:1"


def ansi_number(name: str, color: Color) -> int:
    """The ANSI colour (0-15) a 16-colour terminal receives for `color`: Rich rounds to its palette
    there, so the colour must be (within Textual's rounding of a unit or two) one of those 16."""
    rounded = color.rich_color.downgrade(ColorSystem.STANDARD).number
    assert rounded is not None
    nearest = STANDARD_PALETTE[rounded]
    off = max(abs(a - b) for a, b in zip(color.rgb, nearest, strict=True))
    assert off <= 2, f"${name} is {color.hex6}: not one of the 16 colours, it would be shown as {nearest.hex}"
    return rounded


def test_sixteen_colour_theme_uses_only_colours_that_survive_a_16_colour_terminal() -> None:
    for text, background, color, below in text_pairs(theme_variables("mai-16")):
        ansi_number(text, color)
        ansi_number(background, below)


# The 16 colours as three common terminals paint them.
TERMINAL_PALETTES: dict[str, list[tuple[int, int, int]]] = {
    "xterm": [
        (0, 0, 0), (205, 0, 0), (0, 205, 0), (205, 205, 0), (0, 0, 238), (205, 0, 205), (0, 205, 205), (229, 229, 229),
        (127, 127, 127), (255, 0, 0), (0, 255, 0), (255, 255, 0), (92, 92, 255), (255, 0, 255), (0, 255, 255),
        (255, 255, 255),
    ],
    "vga": [STANDARD_PALETTE[number] for number in range(16)],
    "windows": [
        (12, 12, 12), (197, 15, 31), (19, 161, 14), (193, 156, 0), (0, 55, 218), (136, 23, 152), (58, 150, 221),
        (204, 204, 204), (118, 118, 118), (231, 72, 86), (22, 198, 12), (249, 241, 165), (59, 120, 255),
        (180, 0, 158), (97, 214, 214), (242, 242, 242),
    ],
}  # fmt: skip


@pytest.mark.parametrize("terminal", sorted(TERMINAL_PALETTES))
def test_sixteen_colour_theme_is_readable_in_common_terminal_palettes(terminal: str) -> None:
    painted = TERMINAL_PALETTES[terminal]
    failing = []
    for text, background, color, below in text_pairs(theme_variables("mai-16")):
        front, back = painted[ansi_number(text, color)], painted[ansi_number(background, below)]
        ratio = contrast_ratio("#{:02X}{:02X}{:02X}".format(*front), "#{:02X}{:02X}{:02X}".format(*back))
        # The app draws only the tokens chart in $secondary: a graphic, for which WCAG asks 3:1.
        if ratio < (3.0 if text == "secondary" else AA_TEXT):
            failing.append(f"${text} on ${background}: {ratio:.2f}:1")
    assert failing == []


def test_the_other_built_in_themes_have_readable_body_text() -> None:
    for name in ("mai-dark", "mai-light"):
        for text, background, color, below in text_pairs(theme_variables(name)):
            if text in ("foreground", "text", "foreground-muted", "text-muted") and background != "boost":
                ratio = contrast_ratio(color.hex6, below.hex6)
                assert ratio >= AA_TEXT, f"{name}: ${text} on ${background} is {ratio:.2f}:1"


# --- colours, as Textual reads them --------------------------------------------------


def test_colour_names_are_textuals() -> None:
    assert {**COLOR_NAMES, "transparent": (0, 0, 0, 0)} == COLOR_NAME_TO_RGB


@pytest.mark.parametrize(
    "text",
    ["#fff", "#ffff", "#1F5FD1", "#1F5FD180", "rebeccapurple", "ansi_bright_cyan", "transparent",
     "rgb(300, 20.7, 3)", "rgba(1,2,3,0.5)", "hsl(210,50%,40%)", "hsla(210, 50%, 40%, 0.3)",
     "#abcde", "#ggg", "reed", "RED", " #fff", "rgb(1%,2,3)", "rgba(1,2,3,50%)", "hsl(210,50,40)", "rgb(1,2)"],
)  # fmt: skip
def test_colours_parse_as_textual_parses_them(text: str) -> None:
    expected: tuple[int, int, int, float] | None = None
    got: tuple[int, int, int, float] | None = None
    with contextlib.suppress(ColorParseError):
        textual = Color.parse(text)
        expected = (textual.r, textual.g, textual.b, textual.a)
    with contextlib.suppress(ValueError):
        mine = parse_color(text)
        got = (mine.r, mine.g, mine.b, mine.a)
    if expected is None:
        assert got is None
    else:
        assert got == pytest.approx(expected)


def test_a_misspelt_colour_gets_a_suggestion() -> None:
    with pytest.raises(ValueError, match="did you mean 'red'"):
        parse_color("reed")


# --- a user's own theme files ----------------------------------------------------------


def user_themes() -> Path:
    folder = Paths.from_environment().config_dir / "themes"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


BROKEN = {
    "bad-toml.toml": ("name = 'x'\nprimary = \n", "cannot be read as TOML"),
    "bad-colour.toml": ("name = 'bad-colour'\nprimary = 'not-a-colour'\n", "bad colour primary = 'not-a-colour'"),
    "no-name.toml": ("primary = '#ff0000'\n", "'name' is missing"),
    "extra-key.toml": ("name = 'extra'\nprimary = '#ff0000'\nhighlight = '#00ff00'\n", "unknown keys highlight"),
    "number.toml": ("name = 'number'\nprimary = 12\n", "expected a colour in quotes"),
}


def test_broken_user_themes_are_skipped_each_with_its_file_and_reason() -> None:
    folder = user_themes()
    for file, (text, _reason) in BROKEN.items():
        (folder / file).write_text(text)
    (folder / "mine.toml").write_text("name = 'mine'\nprimary = '#ff0000'\ndark = false\n")
    specs, problems = load_themes([SHIPPED, folder])
    assert sorted(spec.name for spec in specs) == [*BUILT_IN, "mine"]
    assert len(problems) == len(BROKEN)
    for file, (_text, reason) in BROKEN.items():
        [problem] = [p for p in problems if file in p]
        assert reason in problem
        assert str(folder / file) in problem


def test_a_user_theme_with_unreadable_text_loads_with_a_warning() -> None:
    folder = user_themes()
    (folder / "murky.toml").write_text(
        "name = 'murky'\nprimary = '#777777'\nforeground = '#555555'\nbackground = '#333333'\n"
    )
    specs, problems = load_themes([folder])
    assert [spec.name for spec in specs] == ["murky"]
    [problem] = problems
    assert "murky.toml" in problem
    assert "foreground on background is 1.7:1" in problem


def test_a_user_theme_overrides_a_built_in_one_of_the_same_name() -> None:
    (user_themes() / "dark.toml").write_text("name = 'mai-dark'\nprimary = '#00ff00'\n")
    specs, _problems = load_themes([SHIPPED, user_themes()])
    [dark] = [spec for spec in specs if spec.name == "mai-dark"]
    assert dark.colors["primary"] == "#00ff00"


def test_a_bad_variable_is_refused_before_it_can_stop_the_app() -> None:
    spec = ThemeSpec("odd", True, {"primary": "#ff0000"}, {"footer-background": "#12345z", "link-style": "bold"})
    with pytest.raises(ColorParseError, match="footer-background"):
        to_textual(spec)
    ok = ThemeSpec("ok", True, {"primary": "#ff0000"}, {"footer-background": "#123456 50%", "text": "auto 87%"})
    assert to_textual(ok).variables["footer-background"] == "#123456 50%"


def test_a_user_ansi_theme_gets_the_variables_textual_needs() -> None:
    spec = ThemeSpec("ansi", True, {"primary": "ansi_blue"}, {}, None, ansi=True)
    variables = {**to_textual(spec).to_color_system().generate(), **to_textual(spec).variables}
    for needed in ("ansi-background", "ansi-foreground", "foreground-disabled", "surface-active"):
        assert needed in variables


def test_doctor_lists_the_users_themes_and_the_broken_ones() -> None:
    folder = user_themes()
    (folder / "mine.toml").write_text("name = 'mine'\nprimary = '#ff0000'\n")
    (folder / "bad-colour.toml").write_text(BROKEN["bad-colour.toml"][0])
    checks = [check for check in run_checks(load_context()) if check.area == "themes"]
    assert [(check.name, check.status) for check in checks] == [(str(folder), Status.OK), ("theme file", Status.WARN)]
    assert checks[0].detail == "1 theme of yours: mine"
    assert "bad-colour.toml" in checks[1].detail


def test_doctor_says_nothing_about_themes_without_a_theme_folder() -> None:
    assert [check for check in run_checks(load_context()) if check.area == "themes"] == []


# --- the brand colour setting ------------------------------------------------------------


def test_brand_colour_comes_from_the_environment_or_the_file(monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_settings().brand_color is None
    config = Paths.from_environment().config_file
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('brand_color = "rebeccapurple"\n')
    assert load_settings().brand_color == "rebeccapurple"
    monkeypatch.setenv("WEBUI_BRAND_COLOR", "#FFD700")
    assert load_settings().brand_color == "#FFD700"
    assert peek("brand_color", "") == "#FFD700"


@pytest.mark.parametrize(
    ("value", "reason"),
    [("#12345", "not a colour"), ("reed", "did you mean 'red'"), ("#FFD70080", "see-through")],
)
def test_a_bad_brand_colour_is_one_clear_line(monkeypatch: pytest.MonkeyPatch, value: str, reason: str) -> None:
    monkeypatch.setenv("WEBUI_BRAND_COLOR", value)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert str(caught.value).startswith("environment variable WEBUI_BRAND_COLOR: ")
    assert reason in str(caught.value)
