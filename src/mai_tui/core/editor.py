"""Editing text in the user's own editor ($VISUAL, $EDITOR, else nano/vi)."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import tempfile
from pathlib import Path

from mai_tui.core.errors import InvalidInput
from mai_tui.i18n import _


def editor_command() -> list[str]:
    for variable in ("VISUAL", "EDITOR"):
        value = os.environ.get(variable, "").strip()
        if value:
            return shlex.split(value)
    for fallback in ("nano", "vi"):
        if shutil.which(fallback):
            return [fallback]
    raise InvalidInput(_("no editor found: set $EDITOR"))


def edit_text(text: str, command: list[str] | None = None) -> str:
    """Open `text` in the editor (the terminal is the editor's until it exits); return the result."""
    command = command or editor_command()
    with tempfile.TemporaryDirectory(prefix="mai-") as folder:
        path = Path(folder) / "prompt.md"
        path.write_text(text, encoding="utf-8")
        try:
            result = subprocess.run([*command, str(path)], check=False)
        except OSError as error:
            raise InvalidInput(
                _("cannot start the editor {name}: {reason}").format(name=command[0], reason=error.strerror)
            ) from None
        if result.returncode != 0:
            raise InvalidInput(
                _("the editor exited with status {code}; the prompt is unchanged").format(code=result.returncode)
            )
        return path.read_text(encoding="utf-8").rstrip("\n")
