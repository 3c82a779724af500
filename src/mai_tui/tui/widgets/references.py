"""`#name` completion in the prompt: what is being typed, and the list of names offered for it.

The prompt box keeps the state (which names match, which one is highlighted) and handles the
keys; this list only shows it, just above the box, and never takes the focus.
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
SHOWN = 8  # names listed at once; typing more narrows them down


def typed_reference(before_cursor: str) -> str | None:
    """The `#prefix` being typed at the end of `before_cursor` (without the `#`), if any."""
    match = _TYPING.search(before_cursor)
    return match.group(1) if match else None


def matching(names: list[tuple[str, str]], prefix: str) -> list[tuple[str, str]]:
    """The names starting with `prefix` (any case), collections first as the core lists them."""
    low = prefix.lower()
    return [(name, kind) for name, kind in names if name.lower().startswith(low)][:SHOWN]


def kind_label(kind: str) -> str:
    return _("collection") if kind == "collection" else _("file")


class ReferenceList(OptionList):
    """The names offered after `#`; shown while the prompt box has some to offer."""

    can_focus = False

    def show(self, names: list[tuple[str, str]], highlighted: int) -> None:
        self.clear_options()
        if not names:
            self.display = False
            return
        width = max(len(name) for name, _kind in names) + 2
        options = []
        for name, kind in names:
            line = Text.assemble(
                ("▤ " if kind == "collection" else "· ", "bold"),
                (f"#{inert(name)}".ljust(width), "bold" if kind == "collection" else ""),
                (kind_label(kind), "dim italic"),
            )
            options.append(Option(line, id=name))
        self.add_options(options)
        self.highlighted = highlighted
        self.display = True
