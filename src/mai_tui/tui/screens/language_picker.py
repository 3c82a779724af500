"""Choose the language of the interface (palette "Language"): the catalogs that ship with mai."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from mai_tui.i18n import DOMAIN, _
from mai_tui.resources import resource_dir
from mai_tui.tui.bidi import visual


def available_languages() -> list[str]:
    """English (the source language) and every language with a compiled catalog."""
    try:
        folder = resource_dir("locales")
    except FileNotFoundError:
        return ["en"]
    found = [p.parent.parent.name for p in folder.glob(f"*/LC_MESSAGES/{DOMAIN}.mo")]
    return ["en", *sorted(found)]


def language_name(code: str, in_language: str) -> str:
    """ "Deutsch — German": the language's own name, then its name in `in_language`."""
    from babel import Locale, UnknownLocaleError

    try:
        locale = Locale.parse(code)
        own = locale.display_name or code
        translated = locale.get_display_name(Locale.parse(in_language)) or own
    except (ValueError, UnknownLocaleError):
        return code
    return own if translated == own else f"{own} — {translated}"


def _same(code: str, other: str) -> bool:
    """zh_TW and zh_Hant_TW (a catalog's header) are the same language."""
    from babel import Locale, UnknownLocaleError

    try:
        return code == other or Locale.parse(code) == Locale.parse(other)
    except (ValueError, UnknownLocaleError):
        return False


class LanguagePicker(ModalScreen[str | None]):
    """Returns a language code, or None when dismissed."""

    DEFAULT_CSS: ClassVar[str] = """
    LanguagePicker {
        align: center middle;
    }
    """
    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "dismiss_picker", _("Close"), id="picker.close")]

    def __init__(self, current: str) -> None:
        super().__init__()
        self.current = current

    def compose(self) -> ComposeResult:
        in_language = next((code for code in available_languages() if _same(code, self.current)), "en")
        with Vertical(id="picker"):
            yield Static(_("Choose the language of the app"))
            yield OptionList(
                *(
                    Option(visual(f"{language_name(code, in_language)} ({code})"), id=code)
                    for code in available_languages()
                ),
                id="choices",
            )

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        codes = available_languages()
        current = next((code for code in codes if _same(code, self.current)), None)
        options.highlighted = codes.index(current) if current else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(str(event.option.id))

    def action_dismiss_picker(self) -> None:
        self.dismiss(None)
