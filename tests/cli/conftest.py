"""Run `mai` in-process through its real entry point (`run()`), exit codes included."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from mai_tui.cli import run


@dataclass
class Result:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


Mai = Callable[..., Result]


@pytest.fixture
def mai(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Mai:
    def invoke(*args: str, stdin: str = "", user: str | None = None) -> Result:
        capsys.readouterr()
        monkeypatch.setattr(sys, "argv", ["mai", *args])
        monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
        if user is not None:
            monkeypatch.setenv("MAI_USER", user)
        code = 0
        try:
            run()
        except SystemExit as exit_:
            code = exit_.code if isinstance(exit_.code, int) else 1
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return invoke
