"""Model output is data: control characters are made visible, never sent to the terminal.

An answer (or an imported chat) containing ESC, CSI, OSC or BEL sequences could retitle the
window, move the cursor, ring the bell or hide text. Every C0/C1 control character except
newline and tab is replaced by its visible Unicode "control picture" (ESC → ␛).
"""

from __future__ import annotations

import re

_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)}
_PICTURES[0x7F] = "\u2421"  # ␡
_TABLE = {code: picture for code, picture in _PICTURES.items() if code not in (0x09, 0x0A)}
_TABLE |= {code: "\ufffd" for code in range(0x80, 0xA0)}  # C1 controls, e.g. the one-byte CSI 0x9b
_TABLE[0x0D] = ""  # a bare carriage return would overwrite the line: drop it


def inert(text: str) -> str:
    """`text` with every terminal control character made visible and harmless."""
    return text.translate(_TABLE)


_FENCE = re.compile(r"^(`{3,}|~{3,})[^\n]*\n(.*?)^\1\s*$", re.MULTILINE | re.DOTALL)


def code_blocks(markdown: str) -> list[str]:
    """The contents of the fenced code blocks in a Markdown text, in order."""
    return [match.group(2).rstrip("\n") for match in _FENCE.finditer(markdown)]
