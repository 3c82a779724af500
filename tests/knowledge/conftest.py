"""The evaluation index: the fixture documents of the labelled question set, indexed once per
test session per embedder, with real LanceDB and the real embedding models.

`eval_index_minilm` and `eval_index_e5` are session-scoped: the first test that asks builds
the collection ("eval-minilm", "eval-e5") in a session temp folder with its own AppContext,
and every later test reuses it. The context carries its own paths and database URL, so the
per-test XDG folders of the autouse `isolated` fixture (and a test's DATABASE_URL) do not
reach it. Treat the index as read-only: tests share it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from mai_tui.config import Settings
from mai_tui.core.context import AppContext
from mai_tui.core.knowledge.evaluate import Question, load_questions
from mai_tui.core.knowledge.ingest import AddSummary, Ingest, Outcome
from mai_tui.locations import Paths
from tests.conftest import _LEAKY

# CI places the shared folder next to the repository: <repo>/../shared/fixtures/docs.
DOCS: Path = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "docs"
QUESTIONS: Path = Path(__file__).with_name("questions.toml")


@dataclass(frozen=True)
class EvalIndex:
    context: AppContext
    collection: str
    embedder: str
    summary: AddSummary  # what indexing did (seconds, chunks)


def questions() -> list[Question]:
    return load_questions(QUESTIONS)


def documents(names: set[str]) -> list[Path]:
    """The fixture files called `names` (anywhere under docs/, except docs/bad/), sorted."""
    found = {path.name: path for path in DOCS.rglob("*") if path.is_file() and "bad" not in path.parts}
    missing = sorted(names - found.keys())
    if missing:
        raise FileNotFoundError(f"fixture documents not found under {DOCS}: {', '.join(missing)}")
    return sorted(found[name] for name in names)


def context_in(folder: Path) -> AppContext:
    """An AppContext whose every file (config, database, LanceDB, logs) lives under `folder`."""
    paths = Paths(
        config_file=folder / "config" / "config.toml",
        config_dir=folder / "config",
        data_dir=folder / "data",
        state_dir=folder / "state",
    )
    with pytest.MonkeyPatch.context() as patch:
        # Settings() reads the environment and the config file: neither may be the developer's.
        for name in _LEAKY:
            patch.delenv(name, raising=False)
        patch.setenv("MAI_CONFIG", str(paths.config_file))  # absent: every setting at its default
        settings = Settings()
    return AppContext(settings, paths)


def build_index(folder: Path, collection: str, embedder: str, files: list[Path]) -> EvalIndex:
    """Index `files` into a new collection of a fresh context under `folder`."""
    from mai_tui.core.knowledge import manage

    context = context_in(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("MAI_USER", "evaluator")  # the collection's owner, whoever runs the tests
        manage.create_collection(context, collection, embedder=embedder)
        summary = Ingest(context, collection).run(files)
    failed = [f"{r.path.name}: {r.message}" for r in summary.results if r.outcome is not Outcome.INDEXED]
    assert not failed, failed
    return EvalIndex(context, collection, embedder, summary)


def _index(factory: pytest.TempPathFactory, collection: str, embedder: str) -> EvalIndex:
    files = documents({q.file for q in questions()})
    return build_index(factory.mktemp(collection), collection, embedder, files)


@pytest.fixture(scope="session")
def eval_index_minilm(tmp_path_factory: pytest.TempPathFactory) -> EvalIndex:
    """The question set's documents indexed with "minilm" (collection "eval-minilm")."""
    return _index(tmp_path_factory, "eval-minilm", "minilm")


@pytest.fixture(scope="session")
def eval_index_e5(tmp_path_factory: pytest.TempPathFactory) -> EvalIndex:
    """The question set's documents indexed with "e5-multilingual" (collection "eval-e5")."""
    return _index(tmp_path_factory, "eval-e5", "e5-multilingual")
