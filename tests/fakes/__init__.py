"""Local fake LLM provider servers that speak the real wire formats.

`server` holds the HTTP server and its replies, `wire` builds scripted streams in each
provider's format. The recorded fixtures live outside the repository, in `../shared`.
"""

from __future__ import annotations

from pathlib import Path

# CI places the shared folder next to the repository: <repo>/../shared/fixtures/wire.
WIRE: Path = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "wire"

_SIDECAR_SUFFIX = ".headers.json"
_BODY_SUFFIXES = (".json", ".sse", ".ndjson")


def fixture_files(provider: str) -> list[Path]:
    """The recorded response bodies of one provider (sidecars excluded), sorted by name."""
    folder = WIRE / provider
    return sorted(
        path
        for path in folder.iterdir()
        if path.is_file() and path.name.endswith(_BODY_SUFFIXES) and not path.name.endswith(_SIDECAR_SUFFIX)
    )
