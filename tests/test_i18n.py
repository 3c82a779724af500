"""Translations: catalogs complete and in step with the code, plurals, language switching."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from mai_tui.i18n import _, ngettext, set_language
from mai_tui.resources import resource_dir

LOCALES = resource_dir("locales")
CATALOGS = sorted(LOCALES.glob("*/LC_MESSAGES/mai.po"))
SOURCE = Path(__file__).resolve().parent.parent / "src"
PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        return read_po(handle, locale=path.parts[-3])


def code_messages() -> set[str | tuple[str, str]]:
    found: set[str | tuple[str, str]] = set()
    for _file, _line, message, _comments, _context in extract_from_dir(
        str(SOURCE), keywords={"_": None, "ngettext": (1, 2)}
    ):
        found.add(message if isinstance(message, str) else (message[0], message[1]))
    return found


def test_there_is_at_least_one_translation() -> None:
    assert CATALOGS


def test_template_is_in_step_with_the_code() -> None:
    template = read(LOCALES / "mai.pot")
    in_template = {m.id if isinstance(m.id, str) else tuple(m.id) for m in template if m.id}
    assert code_messages() == in_template, "run `make i18n` after changing user-facing strings"


@pytest.mark.parametrize("path", CATALOGS, ids=[p.parts[-3] for p in CATALOGS])
def test_catalog_is_complete_and_keeps_placeholders(path: Path) -> None:
    catalog = read(path)
    template_ids = {m.id if isinstance(m.id, str) else tuple(m.id) for m in read(LOCALES / "mai.pot") if m.id}
    assert {m.id if isinstance(m.id, str) else tuple(m.id) for m in catalog if m.id} == template_ids
    for message in catalog:
        if not message.id:
            continue
        ids = [message.id] if isinstance(message.id, str) else list(message.id)
        strings = [message.string] if isinstance(message.string, str) else list(message.string or ())
        assert all(strings), f"untranslated: {ids[0]!r}"
        assert not message.fuzzy, f"fuzzy: {ids[0]!r}"
        expected = sorted(PLACEHOLDER.findall(ids[-1]))
        for string in strings:
            assert sorted(PLACEHOLDER.findall(string)) == expected, f"placeholders differ in {ids[0]!r}"


def test_language_switches_at_run_time_and_plurals_follow_the_rule() -> None:
    set_language("de")
    assert _("Quit") == "Beenden"
    assert ngettext("{n} input device", "{n} input devices", 1).format(n=1) == "1 Eingabegerät"
    assert ngettext("{n} input device", "{n} input devices", 5).format(n=5) == "5 Eingabegeräte"
    set_language("en")
    assert _("Quit") == "Quit"
    set_language("xx")  # unknown language: English, never an error
    assert _("Quit") == "Quit"


def test_lang_environment_translates_the_command_line() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mai_tui", "--help"],
        capture_output=True,
        text=True,
        check=True,
        env={"LANG": "de_DE.UTF-8", "PATH": "/usr/bin:/bin", "HOME": "/nonexistent"},
    )
    assert "Die Version ausgeben und beenden." in result.stdout
