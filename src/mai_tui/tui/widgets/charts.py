"""Terminal charts for the usage screen: a bar per day, and a bar for a share of a limit.

Both draw with Unicode block characters, so they work in any terminal and over SSH; their
colours come from the stylesheet (`color` for the bars, component classes for the rest).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import ROUND_HALF_EVEN, Decimal
from typing import ClassVar

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

EIGHTHS_UP = " ▁▂▃▄▅▆▇█"  # a column's top cell, filled from the bottom in eighths
EIGHTHS_ACROSS = " ▏▎▍▌▋▊▉█"  # a bar's last cell, filled from the left in eighths


def _eighths(value: Decimal, top: Decimal, cells: int) -> int:
    """How many eighths of `cells` cells `value` fills when `top` fills them all.

    Any value above zero shows at least one eighth, so a small day never looks like an empty one.
    """
    if top <= 0 or value <= 0:
        return 0
    share = (value / top * cells * 8).to_integral_value(rounding=ROUND_HALF_EVEN)
    return max(1, min(cells * 8, int(share)))


class BarChart(Widget):
    """One column per value, the biggest value labelled on the axis, the first and last label below.

    Set `points` (label, value) and it redraws; `format_value` writes the axis label.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = {"bar-chart--axis", "bar-chart--empty"}
    DEFAULT_CSS = """
    BarChart { height: 9; }
    BarChart > .bar-chart--axis { color: $foreground-muted; }
    BarChart > .bar-chart--empty { color: $foreground-muted; text-style: italic; }
    """

    points: reactive[tuple[tuple[str, Decimal], ...]] = reactive((), layout=False)

    def __init__(
        self,
        format_value: Callable[[Decimal], str] = str,
        *,
        empty: str = "",
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.format_value = format_value
        self.empty = empty

    def plot(self, points: Sequence[tuple[str, Decimal]]) -> None:
        self.points = tuple(points)

    def render(self) -> Text:
        width, height = self.size.width, self.size.height
        axis = self.get_component_rich_style("bar-chart--axis")
        values = [value for _label, value in self.points]
        if height < 4 or width < 8 or not values:
            return Text("")
        top_label = self.format_value(max(values))
        margin = len(top_label) + 1
        room = width - margin - 1
        if room < 1:
            return Text("")
        points = self.points[-room:]  # a narrow chart shows the latest days it has room for
        values = values[-room:]
        top = max(values)
        rows = height - 2  # then the x axis, then the first and last labels
        slot = max(1, room // len(values))
        bar = slot - 1 if slot > 1 else 1  # a gap between columns when there is room for one
        span = slot * len(values)
        heights = [_eighths(value, top, rows) for value in values]
        text = Text(no_wrap=True, overflow="crop")
        for row in range(rows):
            level = rows - 1 - row  # 0 is the bottom row
            text.append((top_label if row == 0 else "").rjust(margin - 1) + " ", axis)
            text.append("┤" if row == 0 else "│", axis)
            for eighths in heights:
                text.append((EIGHTHS_UP[min(8, max(0, eighths - level * 8))] * bar).ljust(slot))
            text.append("\n")
        text.append("0".rjust(margin - 1) + " └" + "─" * span + "\n", axis)
        if not top and self.empty:
            text.append(" " * (margin + 1) + self.empty[:room], self.get_component_rich_style("bar-chart--empty"))
        else:
            first, last = points[0][0], points[-1][0]
            if span >= len(first) + len(last) + 1:
                text.append(" " * (margin + 1) + first + last.rjust(span - len(first)), axis)
        return text


class LimitBar(Widget):
    """A share of a limit: a label, and a bar across the width under it. Classes `-warning`
    and `-over` (set from `warn_at` and 1) let the stylesheet colour it."""

    COMPONENT_CLASSES: ClassVar[set[str]] = {"limit-bar--empty", "limit-bar--label"}
    DEFAULT_CSS = """
    LimitBar { height: 2; color: $success; }
    LimitBar.-warning { color: $warning; }
    LimitBar.-over { color: $error; }
    LimitBar > .limit-bar--empty { color: $foreground 20%; }
    LimitBar > .limit-bar--label { color: $foreground; }
    """

    share: reactive[Decimal | None] = reactive(None, layout=False)
    label: reactive[str] = reactive("", layout=False)

    def __init__(
        self,
        warn_at: Decimal = Decimal("0.8"),
        *,
        id: str | None = None,
        classes: str | None = None,
    ) -> None:
        super().__init__(id=id, classes=classes)
        self.warn_at = warn_at

    def show(self, share: Decimal | None, label: str) -> None:
        """`share` of the limit used (None: no limit), and what to write after the bar."""
        self.share, self.label = share, label
        self.set_class(share is not None and self.warn_at <= share < 1, "-warning")
        self.set_class(share is not None and share >= 1, "-over")

    def render(self) -> Text:
        text = Text(self.label, self.get_component_rich_style("limit-bar--label"), no_wrap=True, overflow="ellipsis")
        if self.share is None:
            return text
        cells = self.size.width
        eighths = _eighths(min(self.share, Decimal(1)), Decimal(1), cells)
        whole, part = divmod(eighths, 8)
        drawn = "█" * whole + (EIGHTHS_ACROSS[part] if part else "")
        text.append("\n" + drawn)
        text.append("░" * (cells - len(drawn)), self.get_component_rich_style("limit-bar--empty"))
        return text
