"""A benchmark's own folders: fresh XDG config, data and state, a bench user, no keyring."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def isolate(prefix: str) -> Path:
    """Point this process at a new temporary home (nothing of the developer's setup leaks in)."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    for name in ("CONFIG", "DATA", "STATE", "CACHE"):
        os.environ[f"XDG_{name}_HOME"] = str(folder / name.lower())
    os.environ["MAI_USER"] = "bench"
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"
    for name in ("DATABASE_URL", "MAI_CONFIG", "MAI_DATA_DIR"):
        os.environ.pop(name, None)
    return folder
