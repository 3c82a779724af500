"""Translation layer: every user-facing string goes through `_()` or `ngettext()`.

Catalogs are gettext `.mo` files in `locales/<lang>/LC_MESSAGES/mai.mo`, compiled by Babel.
The language comes from the `language` setting when one is set, else from the usual
environment variables (LANGUAGE, LC_ALL, LC_MESSAGES, LANG). `_()` looks the translation up
at call time, so switching language at run time takes effect on the next render.
"""

from __future__ import annotations

import gettext

from mai_tui.resources import resource_dir

DOMAIN = "mai"

_translation: gettext.NullTranslations = gettext.NullTranslations()


def set_language(language: str | None) -> None:
    """Use `language` (e.g. "de", "pt_BR"); None means "from the environment"."""
    global _translation
    languages = [language] if language else None
    try:
        localedir = str(resource_dir("locales"))
    except FileNotFoundError:
        _translation = gettext.NullTranslations()
        return
    _translation = gettext.translation(DOMAIN, localedir, languages=languages, fallback=True)


def current_language() -> str:
    """The language of the active catalog ("de", "pt_BR", "zh_Hant_TW"); "en" when none is active."""
    return str(_translation.info().get("language") or "en")


def _(message: str) -> str:
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


set_language(None)
