"""Hatch build hook: compile the gettext catalogs (.po -> .mo) before the wheel is assembled.

The whole `locales/` folder is force-included into the wheel (pyproject.toml), so the
compiled files travel with it.
"""

from __future__ import annotations

import runpy
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface


class CompileCatalogs(BuildHookInterface):  # type: ignore[type-arg]
    PLUGIN_NAME = "custom"

    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        root = Path(self.root)
        compile_catalogs = runpy.run_path(str(root / "scripts" / "compile_catalogs.py"))["compile_catalogs"]
        compile_catalogs(root / "locales")
