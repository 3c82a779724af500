"""Adding files when things go wrong: a provider outage on a re-read, a cancel half-way, a
changed chunking, links, special files, old encodings, and two processes at once.

The embedder is a real OpenAI-compatible provider embedder talking to a fake server on
127.0.0.1 (fast, and it can be made to fail on cue).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import select

from mai_tui.core.context import AppContext, load_context
from mai_tui.core.knowledge import manage
from mai_tui.core.knowledge.ingest import Ingest, Outcome, Progress, chunk_store
from mai_tui.core.knowledge.retrieval import Mode, scopes_for, search
from mai_tui.core.store.models import DocumentStatus, KnowledgeCollection, KnowledgeDocument
from tests.fakes.embeddings import FakeEmbeddings
from tests.fakes.server import Status

KEY = "sk-lab-0123456789abcdef"
PROSE = "The harbour master counts {n} ferries each morning before the fog lifts over the bay. "


@pytest.fixture
def fake() -> Iterator[FakeEmbeddings]:
    with FakeEmbeddings(dim=8, key=KEY) as server:
        yield server


@pytest.fixture
def context(fake: FakeEmbeddings, isolated: Path) -> AppContext:
    config = isolated / "xdg" / "config" / "mai" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[providers.custom.lab]\nbase_url = "{fake.base_url}"\n')
    context = load_context()
    context.secrets.set("lab", KEY)
    manage.create_collection(context, "docs", embedder="lab:fake-model")
    return context


def text_file(folder: Path, name: str, paragraphs: int = 3, encoding: str = "utf-8") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n\n".join(PROSE.format(n=n) * 8 for n in range(paragraphs)), encoding=encoding)
    return path


def document(context: AppContext, name: str) -> KnowledgeDocument:
    with context.session(write=False) as session:
        return session.exec(select(KnowledgeDocument).where(KnowledgeDocument.name == name)).one()


def names(context: AppContext) -> list[str]:
    with context.session(write=False) as session:
        return sorted(d.name for d in session.exec(select(KnowledgeDocument)).all())


def store_name(context: AppContext) -> str:
    with context.session(write=False) as session:
        return session.exec(select(KnowledgeCollection)).one().store_name


def found(context: AppContext, question: str) -> list[str]:
    """Files BM25 finds (no query embedding: works while the provider is down)."""
    return [p.file for p in search(context, scopes_for(context, ["docs"]), question, k=10, mode=Mode.TEXT)]


def test_a_provider_outage_on_a_re_read_keeps_the_indexed_version(
    context: AppContext, fake: FakeEmbeddings, tmp_path: Path
) -> None:
    path = text_file(tmp_path / "in", "harbour.txt")
    assert Ingest(context, "docs").run([path]).count(Outcome.INDEXED) == 1
    indexed = document(context, "harbour.txt")
    fake.fail_with(Status(500, {"error": {"message": "The server had an error"}}, headers={"retry-after-ms": "1"}))
    summary = manage.reindex(context, "docs")
    assert summary.count(Outcome.FAILED) == 1
    failed = document(context, "harbour.txt")
    assert failed.status == DocumentStatus.FAILED.value
    assert "server error" in (failed.error or "")
    assert failed.indexed_version == indexed.indexed_version  # still the version searches trust
    assert chunk_store(context).count(store_name(context)) == indexed.chunks
    assert found(context, "ferries harbour") == ["harbour.txt"] * indexed.chunks
    fake.fail_with(fake.reply)
    assert manage.reindex(context, "docs").count(Outcome.INDEXED) == 1
    assert document(context, "harbour.txt").status == DocumentStatus.INDEXED.value


def cancel_after_first_batch(cancel: threading.Event) -> object:
    def on_progress(progress: Progress) -> None:
        if progress.chunks_done > 0:
            cancel.set()

    return on_progress


def test_a_cancelled_re_read_leaves_the_document_as_it_was_and_a_cancelled_new_file_leaves_none(
    context: AppContext, tmp_path: Path
) -> None:
    old = text_file(tmp_path / "in", "old.txt", paragraphs=60)
    assert Ingest(context, "docs").run([old]).count(Outcome.INDEXED) == 1
    before = document(context, "old.txt")
    assert before.chunks > 32  # more than one embedding batch: the cancel lands mid-file
    new = text_file(tmp_path / "in", "new.txt", paragraphs=60)
    old.write_text(old.read_text() + "\n\nA new closing paragraph about lighthouses.")
    cancel = threading.Event()
    run = Ingest(context, "docs", cancel=cancel, on_progress=cancel_after_first_batch(cancel))  # type: ignore[arg-type]
    summary = run.run([old, new])
    assert [r.outcome for r in summary.results] == [Outcome.CANCELLED, Outcome.CANCELLED]
    after = document(context, "old.txt")
    assert (after.status, after.indexed_version, after.chunks) == (
        DocumentStatus.INDEXED.value,
        before.indexed_version,
        before.chunks,
    )
    assert names(context) == ["old.txt"]  # the new file left no record
    assert chunk_store(context).count(store_name(context)) == before.chunks
    assert set(found(context, "ferries")) == {"old.txt"}


def test_re_indexing_with_another_chunking_leaves_exactly_the_new_chunks(context: AppContext, tmp_path: Path) -> None:
    path = text_file(tmp_path / "in", "harbour.txt", paragraphs=20)
    Ingest(context, "docs").run([path])
    first = document(context, "harbour.txt").chunks
    with context.session() as session:
        collection = session.exec(select(KnowledgeCollection)).one()
        collection.chunk_size, collection.chunk_overlap = 3000, 0
        session.add(collection)
    manage.reindex(context, "docs")
    second = document(context, "harbour.txt")
    assert second.chunks < first
    store = chunk_store(context)
    assert store.count(store_name(context)) == second.chunks
    assert {c.version for c in store.chunks(store_name(context), second.id or 0)} == {second.indexed_version}


def test_a_link_and_its_target_in_a_folder_are_one_document(context: AppContext, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    target = text_file(folder / "sub", "real.txt")
    (folder / "alias.txt").symlink_to(target)
    summary = Ingest(context, "docs").run([folder], recursive=True)
    assert summary.count(Outcome.INDEXED) == 1
    assert names(context) == ["real.txt"]


def test_a_fifo_is_refused_without_waiting_for_it(context: AppContext, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    [result] = Ingest(context, "docs").run([fifo]).results
    assert result.outcome is Outcome.FAILED
    assert "not a regular file" in (result.message or "")


def test_a_latin_1_text_file_is_read(context: AppContext, tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes("Le phare de l'île côtière éclaire la baie. ".encode("cp1252") * 20)
    assert Ingest(context, "docs").run([path]).count(Outcome.INDEXED) == 1
    assert "côtière" in search(context, scopes_for(context, ["docs"]), "phare", k=1, mode=Mode.TEXT)[0].text


def test_two_processes_adding_the_same_folder_leave_each_chunk_once(context: AppContext, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    for n in range(12):
        text_file(folder, f"file{n:02}.txt", paragraphs=2 + n % 3)
    command = [sys.executable, "-m", "mai_tui", "kb", "add", "docs", str(folder), "-r"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [run.communicate(timeout=300) for run in runs]
    assert [run.returncode for run in runs] == [0, 0], outputs
    store, name = chunk_store(context), store_name(context)
    with context.session(write=False) as session:
        documents = session.exec(select(KnowledgeDocument)).all()
    assert len(documents) == 12
    assert all(d.status == DocumentStatus.INDEXED.value for d in documents)
    rows = [c for d in documents for c in store.chunks(name, d.id or 0)]
    assert store.count(name) == len(rows) == sum(d.chunks for d in documents)
    assert not [key for key, count in Counter(c.id for c in rows).items() if count > 1]
    trusted = {d.id: d.indexed_version for d in documents}
    assert all(c.version == trusted[c.document_id] for c in rows)
