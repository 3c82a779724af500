"""Completion in the prompt: what is being typed, and the list of names offered for it.

Two triggers: `#name` anywhere (collections and files) and `/command` at the very start of the
box (saved prompts). The prompt box keeps the state (which names match, which one is
highlighted) and handles the keys; this list only shows it, just above the box, and never
takes the focus.
"""

from __future__ import annotations

import re

from rich.text import Text
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from mai_tui.core.chat.sanitize import inert
from mai_tui.i18n import _

# `#` at the start of a word, then what is typed so far (a name has no spaces: see collections.check_name).
_TYPING = re.compile(r"(?<![\w#])#([\w.\-]*)$")
# `/` as the first character of the box, then what is typed so far (see prompts.check_command).
_COMMAND = re.compile(r"/([A-Za-z0-9_\-]*)")
SHOWN = 8  # names listed at once; typing more narrows them down
TITLE_SHOWN = 50  # characters of a saved prompt's title beside its command


def typed_reference(before_cursor: str) -> str | None:
    """The `#prefix` being typed at the end of `before_cursor` (without the `#`), if any."""
    match = _TYPING.search(before_cursor)
    return match.group(1) if match else None


def typed_command(before_cursor: str, row: int) -> str | None:
    """The `/prefix` being typed at the very start of the box (without the `/`), if any."""
    match = _COMMAND.fullmatch(before_cursor) if row == 0 else None
    return match.group(1) if match else None


def typed_trigger(before_cursor: str, row: int) -> tuple[str, str] | None:
    """(trigger, prefix) of the completion being typed on line `row`: `/` for commands, `#` for names."""
    command = typed_command(before_cursor, row)
    if command is not None:
        return "/", command
    reference = typed_reference(before_cursor)
    return ("#", reference) if reference is not None else None


def matching(names: list[tuple[str, str]], prefix: str) -> list[tuple[str, str]]:
    """The names starting with `prefix` (any case), collections first as the core lists them."""
    low = prefix.lower()
    return [(name, kind) for name, kind in names if name.lower().startswith(low)][:SHOWN]


def kind_label(kind: str) -> str:
    return _("collection") if kind == "collection" else _("file")


def _shortened(text: str, length: int) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


class ReferenceList(OptionList):
    """The names offered after `#` or a leading `/`; shown while the prompt box has some to offer.

    Each name comes with a detail: its kind after `#` ("collection" or "file"), its title after `/`.
    """

    can_focus = False

    def show(self, names: list[tuple[str, str]], highlighted: int, trigger: str = "#") -> None:
        self.clear_options()
        if not names:
            self.display = False
            return
        width = max(len(name) for name, _detail in names) + 2
        options = []
        for name, detail in names:
            if trigger == "/":
                line = Text.assemble(
                    ("› ", "bold"),
                    (f"/{inert(name)}".ljust(width), "bold"),
                    (inert(_shortened(detail, TITLE_SHOWN)), "dim italic"),
                )
            else:
                line = Text.assemble(
                    ("▤ " if detail == "collection" else "· ", "bold"),
                    (f"#{inert(name)}".ljust(width), "bold" if detail == "collection" else ""),
                    (kind_label(detail), "dim italic"),
                )
            options.append(Option(line, id=name))
        self.add_options(options)
        self.highlighted = highlighted
        self.display = True
