"""Compile locales/*/LC_MESSAGES/*.po into .mo files. `hatch_build.py` uses it for the wheel."""

from __future__ import annotations

from pathlib import Path


def compile_catalogs(locales: Path) -> list[Path]:
    """Write a .mo beside every .po under `locales`; returns the .mo paths."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po_path in sorted(locales.glob("*/LC_MESSAGES/*.po")):
        with po_path.open("rb") as handle:
            catalog = read_po(handle, locale=po_path.parts[-3])
        mo_path = po_path.with_suffix(".mo")
        with mo_path.open("wb") as handle:
            write_mo(handle, catalog)
        written.append(mo_path)
    return written


if __name__ == "__main__":
    compile_catalogs(Path(__file__).resolve().parent.parent / "locales")
