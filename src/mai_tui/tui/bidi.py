"""Right-to-left text (Arabic, Hebrew, Persian …) in display order, for terminals without bidi.

Terminals draw characters left to right as they come; a line in Arabic or Hebrew then reads
backwards. Each line holding right-to-left script is reordered with the Unicode bidi algorithm
(python-bidi); lines without it are left exactly as they are. Set MAI_BIDI=off for a terminal
that applies bidi itself (it would reorder a second time).
"""

from __future__ import annotations

import os
import re

# Hebrew, Arabic, Syriac, Thaana, N'Ko, Samaritan, Mandaic …, and their presentation forms.
_RTL = re.compile("[\u0590-\u08ff\ufb1d-\ufdff\ufe70-\ufefc]")
_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
# A Markdown block marker stays in front: heading, quote, list item.
_MARKER = re.compile(r"^(\s*(?:#{1,6}\s+|(?:>\s*)+|[-*+]\s+|\d{1,9}[.)]\s+)*)(.*)$", re.DOTALL)


def enabled() -> bool:
    return os.environ.get("MAI_BIDI", "").strip().lower() not in ("0", "off", "no", "false")


def has_rtl(text: str) -> bool:
    return _RTL.search(text) is not None


def _line(line: str) -> str:
    if not has_rtl(line):
        return line
    from bidi import get_display  # type: ignore[import-untyped]  # loaded at the first right-to-left line

    return str(get_display(line))


def visual(text: str) -> str:
    """Plain text with each line holding right-to-left script in display order."""
    if not enabled() or not has_rtl(text):
        return text
    return "\n".join(_line(line) for line in text.split("\n"))


def visual_fields(text: str, separator: str = " · ") -> str:
    """A line of fields (model · tokens · cost): each field reordered on its own, the fields kept in order."""
    if not enabled() or not has_rtl(text):
        return text
    return "\n".join(separator.join(_line(field) for field in line.split(separator)) for line in text.split("\n"))


def visual_markdown(source: str) -> str:
    """Markdown with the text of right-to-left lines in display order, before rendering.

    Fenced code stays as written; a line's block marker (#, >, -, 1.) stays in front, and each
    table cell is reordered on its own so the columns keep their order.
    """
    if not enabled() or not has_rtl(source):
        return source
    lines, fence = [], ""
    for line in source.split("\n"):
        opening = _FENCE.match(line)
        if fence:
            if opening and opening.group(1)[0] == fence[0] and len(opening.group(1)) >= len(fence):
                fence = ""
        elif opening:
            fence = opening.group(1)
        elif line.lstrip().startswith("|"):
            line = "|".join(_line(cell) for cell in line.split("|"))
        elif has_rtl(line):
            marker, text = _MARKER.match(line).groups()  # type: ignore[union-attr]
            line = marker + _line(text)
        lines.append(line)
    return "\n".join(lines)
