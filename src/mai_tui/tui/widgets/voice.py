"""Push-to-talk status, above the prompt: the microphone opening, recording (elapsed time and a
level meter), or the speech being transcribed. Hidden the rest of the time."""

from __future__ import annotations

import math

from textual.widgets import Static

from mai_tui.i18n import _

BARS = "▁▂▃▄▅▆▇█"
QUIET = "·"
FLOOR_DB = -60.0  # an RMS level this quiet (or quieter) shows an empty meter


def meter(level: float, cells: int = len(BARS)) -> str:
    """An RMS level (0..1) as a rising bar on a decibel scale: ordinary speech lights about
    two thirds of it, silence none."""
    decibels = 20 * math.log10(level) if level > 0 else FLOOR_DB
    lit = round(cells * min(1.0, max(0.0, 1 - decibels / FLOOR_DB)))
    return "".join(BARS[index * len(BARS) // cells] for index in range(lit)) + QUIET * (cells - lit)


def clock(seconds: float) -> str:
    """0:07, 2:00 — whole seconds, as a recorder shows them."""
    whole = max(0, int(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


class VoiceStatus(Static):
    """What the voice key is doing; the app updates it about ten times a second while recording."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__("", markup=False, **kwargs)  # type: ignore[arg-type]
        self.display = False

    def opening(self) -> None:
        self._show("-opening", _("● Opening the microphone…"))

    def recording(self, seconds: float, limit: float, level: float, keys: str) -> None:
        text = _("● Recording {time} / {limit}  {meter}").format(
            time=clock(seconds), limit=clock(limit), meter=meter(level)
        )
        if keys:
            text += "  " + _("({keys} stops)").format(keys=keys)
        self._show("-recording", text)

    def transcribing(self, keys: str) -> None:
        text = _("Transcribing… ({keys} cancels)").format(keys=keys) if keys else _("Transcribing…")
        self._show("-transcribing", text)

    def idle(self) -> None:
        self.remove_class("-opening", "-recording", "-transcribing")
        self.update("")
        self.display = False

    def _show(self, state: str, text: str) -> None:
        self.set_classes(state)
        self.update(text)
        self.display = True
