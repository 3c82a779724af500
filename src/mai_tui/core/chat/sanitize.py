"""Model output is data: control characters are made visible, never sent to the terminal.

An answer (or an imported chat) containing ESC, CSI, OSC or BEL sequences could retitle the
window, move the cursor, ring the bell or hide text. Every C0/C1 control character except
newline and tab is replaced by its visible Unicode "control picture" (ESC → ␛).
"""

from __future__ import annotations

_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)}
_PICTURES[0x7F] = "\u2421"  # ␡
_TABLE = {code: picture for code, picture in _PICTURES.items() if code not in (0x09, 0x0A)}
_TABLE |= {code: "\ufffd" for code in range(0x80, 0xA0)}  # C1 controls, e.g. the one-byte CSI 0x9b
_TABLE[0x0D] = ""  # a bare carriage return would overwrite the line: drop it


def inert(text: str) -> str:
    """`text` with every terminal control character made visible and harmless."""
    return text.translate(_TABLE)
