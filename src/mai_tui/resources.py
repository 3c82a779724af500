"""Where the data files shipped with the app live.

In an installed wheel, `migrations/`, `themes/` and `locales/` sit inside the package;
in a source checkout they sit at the repository root. Both layouts are supported so the
same code runs from `uv run` and from a wheel.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """Return the folder holding the shipped data files called `name`."""
    for candidate in (_PACKAGE / name, _PACKAGE.parent.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"the shipped folder {name!r} is missing from the installation")
