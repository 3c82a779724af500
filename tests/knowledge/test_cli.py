"""`mai kb …` and `mai ask --kb` through the real entry point, on real documents and the real embedder."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from mai_tui.core.context import load_context
from mai_tui.core.knowledge import ingest
from mai_tui.core.knowledge.embedders import get_embedder
from mai_tui.core.knowledge.ingest import chunk_store
from mai_tui.core.store.models import ChatMessage, KnowledgeCollection, KnowledgeDocument, LedgerEntry
from tests.cli.conftest import Mai, mai
from tests.fakes import WIRE
from tests.fakes.server import FakeServer, Replay, Stream
from tests.fakes.wire import openrouter_chunks

__all__ = ["mai"]

DOCS = WIRE.parent / "docs"
SLIDES = DOCS / "pptx" / "sample-presentation.pptx"  # 4 slides
HANDBOOK = DOCS / "docx" / "us-trustee-handbook-1p.docx"
REPORT = DOCS / "pdf" / "gao-23-106826-cybersecurity-highlights.pdf"  # 2 pages
ENCRYPTED = DOCS / "bad" / "encrypted-rc4-user-password.pdf"  # user password "password"
TRUNCATED = DOCS / "bad" / "truncated-handbook-1p-50pct.docx"
SCANNED = DOCS / "bad" / "scanned-image-only-no-text.pdf"
GARBLED = DOCS / "bad" / "scanned-with-garbled-ocr.pdf"  # an OCR layer of junk: indexed, but flagged


def documents(collection: str) -> dict[str, KnowledgeDocument]:
    with load_context().session(write=False) as session:
        found = session.exec(select(KnowledgeCollection).where(KnowledgeCollection.name == collection)).one()
        rows = session.exec(select(KnowledgeDocument).where(KnowledgeDocument.collection_id == found.id)).all()
        return {row.name: row for row in rows}


def store_name(collection: str) -> str:
    with load_context().session(write=False) as session:
        return session.exec(select(KnowledgeCollection).where(KnowledgeCollection.name == collection)).one().store_name


def stored_chunks(collection: str, document: KnowledgeDocument) -> int:
    return chunk_store(load_context()).count(store_name(collection), document.id)


@pytest.fixture
def embedded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many passages each embedding call of an add received (the real embedder still runs)."""
    calls: list[int] = []

    def counting(*args: Any, **kwargs: Any) -> Any:
        embedder = get_embedder(*args, **kwargs)

        class Counting:
            def __getattr__(self, name: str) -> Any:
                return getattr(embedder, name)

            def embed_passages(self, texts: list[str]) -> Any:
                calls.append(len(texts))
                return embedder.embed_passages(texts)

        return Counting()

    monkeypatch.setattr(ingest, "get_embedder", counting)  # what an add embeds with
    return calls


def test_a_mixed_batch_indexes_the_good_files_and_says_why_the_others_failed(mai: Mai) -> None:
    assert mai("kb", "create", "docs").code == 0
    files = (SLIDES, HANDBOOK, ENCRYPTED, TRUNCATED, SCANNED, GARBLED)
    result = mai("kb", "add", "docs", *map(str, files))
    assert result.code == 1
    assert "3 indexed, 0 unchanged, 0 skipped, 3 failed" in result.out
    failed, low = result.out.split("Failed:\n")[1].split("Low-quality text")
    failed_lines = failed.splitlines()
    assert len(failed_lines) == 3
    assert any("encrypted-rc4-user-password.pdf" in line and "--password" in line for line in failed_lines)
    assert any("truncated-handbook-1p-50pct.docx" in line and "damaged" in line for line in failed_lines)
    assert any("scanned-image-only-no-text.pdf" in line and "OCR" in line for line in failed_lines)
    assert low.splitlines()[1:] == ["  scanned-with-garbled-ocr.pdf"]
    assert len(result.err.splitlines()) == len(files)  # not a terminal: one line per finished file

    listing = mai("kb", "list", "docs", "--json").json()
    statuses = {d["name"]: (d["status"], d["problem"]) for d in listing["documents"]}
    assert statuses == {
        "sample-presentation.pptx": ("indexed", None),
        "us-trustee-handbook-1p.docx": ("indexed", None),
        "encrypted-rc4-user-password.pdf": ("failed", "encrypted"),
        "truncated-handbook-1p-50pct.docx": ("failed", "corrupt"),
        "scanned-image-only-no-text.pdf": ("failed", "no_text"),
        "scanned-with-garbled-ocr.pdf": ("indexed", None),
    }
    assert [d["name"] for d in listing["documents"] if d["low_quality"]] == ["scanned-with-garbled-ocr.pdf"]
    assert listing["collection"]["indexed"] == 3
    assert listing["collection"]["failed"] == 3
    rows = documents("docs")
    for name, (status, _problem) in statuses.items():
        chunks = stored_chunks("docs", rows[name])
        assert (chunks > 0) == (status == "indexed"), name
        assert chunks == rows[name].chunks
    [overview] = mai("kb", "list", "--json").json()
    assert (overview["name"], overview["documents"], overview["indexed"], overview["failed"]) == ("docs", 6, 3, 3)
    assert overview["pages"] == 4 + rows["us-trustee-handbook-1p.docx"].pages + 1
    assert overview["chunks"] == sum(row.chunks for row in rows.values())
    [knowledge] = [c for c in mai("doctor", "--json").json()["checks"] if c["area"] == "knowledge"]
    assert knowledge["detail"] == "1 collection · 3 documents indexed, 3 failed, 0 unfinished"


def test_json_add_has_a_result_per_file(mai: Mai) -> None:
    mai("kb", "create", "docs")
    data = mai("kb", "add", "docs", str(SLIDES), str(ENCRYPTED), "--json").json()
    assert (data["indexed"], data["failed"], data["interrupted"]) == (1, 1, False)
    [slides, encrypted] = data["files"]
    assert (slides["file"], slides["outcome"], slides["pages"]) == ("sample-presentation.pptx", "indexed", 4)
    assert slides["chunks"] > 0
    assert (encrypted["outcome"], encrypted["problem"]) == ("failed", "encrypted")
    assert "--password" in encrypted["message"]


def test_adding_again_embeds_nothing_and_a_changed_file_replaces_its_chunks(
    mai: Mai, tmp_path: Path, embedded: list[int]
) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text("# Ferries\n\nThe ferry to the island leaves at nine every morning.\n", encoding="utf-8")
    mai("kb", "create", "docs")
    assert mai("kb", "add", "docs", str(SLIDES), str(notes)).code == 0
    assert embedded
    before = documents("docs")["notes.md"]

    embedded.clear()
    again = mai("kb", "add", "docs", str(SLIDES), str(notes))
    assert again.code == 0
    assert "0 indexed, 2 unchanged" in again.out
    assert embedded == []
    assert documents("docs")["notes.md"].indexed_at == before.indexed_at

    notes.write_text(
        "# Trains\n\n" + "\n\n".join(f"Train {n} to the coast leaves from platform {n}." * 8 for n in range(1, 9)),
        encoding="utf-8",
    )
    changed = mai("kb", "add", "docs", str(SLIDES), str(notes))
    assert changed.code == 0
    assert "1 indexed, 1 unchanged" in changed.out
    after = documents("docs")["notes.md"]
    assert after.content_hash != before.content_hash
    assert after.chunks > before.chunks
    chunks = chunk_store(load_context()).chunks(store_name("docs"), after.id or 0)
    assert len(chunks) == after.chunks
    assert {c.version for c in chunks} == {after.indexed_version}
    assert not any("ferry" in c.text for c in chunks)


def test_query_finds_the_page_or_slide_and_respects_k(mai: Mai) -> None:
    mai("kb", "create", "docs")
    assert mai("kb", "add", "docs", str(SLIDES), str(REPORT)).code == 0
    [best, *_rest] = mai("kb", "query", "docs", "sub-sub-detail and sub-details", "--json").json()
    assert (best["file"], best["slide"], best["page"]) == ("sample-presentation.pptx", 3, None)
    assert best["heading"] == "This is the second content slide"
    assert {"file", "page", "slide", "heading", "score", "text"} <= set(best)
    [best] = mai(
        "kb", "query", "docs", "milestones and performance measures of the strategy", "-k", "1", "--json"
    ).json()
    assert (best["file"], best["page"], best["slide"]) == ("gao-23-106826-cybersecurity-highlights.pdf", 2, None)
    assert len(mai("kb", "query", "docs", "cybersecurity", "-k", "3", "--json").json()) == 3
    text = mai("kb", "query", "docs", "sub-sub-detail", "-k", "1", "--mode", "text")
    assert text.out.startswith("[1] sample-presentation.pptx, slide 3 — This is the second content slide")

    unknown = mai("kb", "query", "nothing", "cybersecurity")
    assert unknown.code == 1
    assert unknown.err == "mai: no collection named 'nothing': see  mai kb list\n"
    assert mai("kb", "query", "docs", "x", "--mode", "fuzzy").code == 1


def last_user_message(server: FakeServer) -> str:
    content: str = server.requests[-1].json()["messages"][-1]["content"]
    return content


def test_kb_ask_sends_the_sources_and_stores_the_citations(mai: Mai, openrouter: FakeServer) -> None:
    openrouter.route("POST", "/api/v1/chat/completions", Replay("openrouter/chat_completions_stream_usage_cost.sse"))
    mai("kb", "create", "docs")
    assert mai("kb", "add", "docs", str(SLIDES), str(HANDBOOK)).code == 0
    result = mai("kb", "ask", "docs", "What did the Bankruptcy Reform Act of 1978 remove?", "-k", "2", "--json")
    assert result.code == 0, result.err
    data = result.json()
    sent = last_user_message(openrouter)
    assert "<sources>" in sent
    assert "[1] us-trustee-handbook-1p.docx" in sent
    assert sent.endswith("Question: What did the Bankruptcy Reform Act of 1978 remove?")
    assert [c["n"] for c in data["citations"]] == [1, 2]
    assert data["citations"][0]["file"] == "us-trustee-handbook-1p.docx"
    assert data["citations"][0]["cited"] is False  # the recorded answer cites nothing
    with load_context().session(write=False) as session:
        answer = session.exec(select(ChatMessage).where(ChatMessage.role == "assistant")).one()
        [entry] = session.exec(select(LedgerEntry)).all()
    stored = json.loads(answer.citations or "[]")
    assert [c["file"] for c in stored] == [c["file"] for c in data["citations"]]
    assert answer.content == data["text"]
    assert entry.kind == "rag"


def test_ask_with_kb_lists_the_sources_and_marks_the_cited_ones(mai: Mai, openrouter: FakeServer) -> None:
    openrouter.route(
        "POST", "/api/v1/chat/completions", Stream(openrouter_chunks(["It removed the judge ", "from daily work [1]."]))
    )
    mai("kb", "create", "docs")
    assert mai("kb", "add", "docs", str(SLIDES), str(HANDBOOK)).code == 0
    result = mai("ask", "--kb", "docs", "What did the Bankruptcy Reform Act of 1978 remove?")
    assert result.code == 0, result.err
    answer, sources = result.out.split("\n\nSources (✓ cited in the answer):\n")
    assert answer == "It removed the judge from daily work [1]."
    lines = sources.splitlines()
    assert lines[0].startswith("✓ [1] us-trustee-handbook-1p.docx, page ")
    assert all(line.startswith("  [") for line in lines[1:])
    assert len(lines) > 1
    assert "<sources>" in last_user_message(openrouter)

    missing = mai("ask", "--kb", "nothing", "hello")
    assert missing.code == 1
    assert "no collection named 'nothing'" in missing.err
    assert len(openrouter.requests) == 1


def make_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "folder"
    (folder / "deeper").mkdir(parents=True)
    shutil.copy(SLIDES, folder / "deeper" / SLIDES.name)
    (folder / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(32))
    (folder / ".hidden.md").write_text("# not added\n\nhidden files stay out\n", encoding="utf-8")
    return folder


def test_a_folder_needs_r_and_an_unsupported_file_in_it_is_skipped(mai: Mai, tmp_path: Path) -> None:
    folder = make_folder(tmp_path)
    mai("kb", "create", "docs")
    flat = mai("kb", "add", "docs", str(folder))
    assert flat.code == 1
    assert flat.err == f"mai: {folder} is a folder: add -r to add the files in it\n"
    walked = mai("kb", "add", "docs", str(folder), "-r")
    assert walked.code == 0, walked.out
    assert "1 indexed, 0 unchanged, 1 skipped, 0 failed" in walked.out
    skipped = walked.out.split("Skipped:\n")[1].splitlines()
    assert len(skipped) == 1
    assert "picture.png" in skipped[0]
    assert set(documents("docs")) == {"sample-presentation.pptx"}  # a skipped file leaves no record


def test_remove_a_file_then_the_collection_and_only_the_owner_or_an_admin_may(mai: Mai) -> None:
    mai("kb", "create", "docs")
    assert mai("kb", "add", "docs", str(SLIDES), str(HANDBOOK)).code == 0
    table = store_name("docs")
    rows = documents("docs")
    store = chunk_store(load_context())
    folder = load_context().paths.lancedb_dir / f"{table}.lance"
    assert folder.is_dir()
    assert mai("users", "add", "bob").code == 0

    refused = mai("kb", "remove", "docs", "sample-presentation.pptx", user="bob")
    assert refused.code == 1
    assert "only its owner and admins" in refused.err
    assert mai("kb", "remove", "docs", "--yes", user="bob").code == 1
    assert set(documents("docs")) == {"sample-presentation.pptx", "us-trustee-handbook-1p.docx"}

    removed = mai("kb", "remove", "docs", "sample-presentation.pptx", user="tester")
    assert removed.code == 0, removed.err
    assert f"Removed {SLIDES}" in removed.out
    assert store.count(table, rows["sample-presentation.pptx"].id) == 0
    assert store.count(table) == rows["us-trustee-handbook-1p.docx"].chunks
    assert set(documents("docs")) == {"us-trustee-handbook-1p.docx"}

    unconfirmed = mai("kb", "remove", "docs")
    assert unconfirmed.code == 1
    assert "add --yes" in unconfirmed.err
    gone = mai("kb", "remove", "docs", "--yes")
    assert gone.code == 0
    assert "Removed the collection 'docs': 1 document" in gone.out
    assert not folder.exists()
    assert store.count(table) == 0
    assert mai("kb", "list", "--json").json() == []


def test_a_password_from_stdin_opens_an_encrypted_pdf(mai: Mai) -> None:
    mai("kb", "create", "docs")
    wrong = mai("kb", "add", "docs", str(ENCRYPTED), "--password", stdin="not-it\n")
    assert wrong.code == 1
    assert "the password given does not open" in wrong.out
    right = mai("kb", "add", "docs", str(ENCRYPTED), "--password", stdin="password\n")
    assert right.code == 0, right.out
    assert "1 indexed" in right.out
    [passage] = mai("kb", "query", "docs", "file with password", "-k", "1", "--json").json()
    assert (passage["file"], passage["page"]) == ("encrypted-rc4-user-password.pdf", 1)
    assert "File with password" in passage["text"]
    assert mai("kb", "add", "docs", str(ENCRYPTED), "--password").code == 1  # nothing on stdin


def test_reindex_reads_every_document_again(mai: Mai, embedded: list[int]) -> None:
    mai("kb", "create", "docs")
    assert mai("kb", "add", "docs", str(SLIDES), str(HANDBOOK)).code == 0
    before = documents("docs")
    embedded.clear()
    result = mai("kb", "reindex", "docs", "--json")
    assert result.code == 0, result.err
    data = result.json()
    assert (data["indexed"], data["unchanged"]) == (2, 0)
    assert sum(embedded) == sum(d.chunks for d in before.values())
    after = documents("docs")
    assert chunk_store(load_context()).count(store_name("docs")) == sum(d.chunks for d in after.values())


def test_list_notes_a_collection_indexed_with_another_embedder(mai: Mai, monkeypatch: pytest.MonkeyPatch) -> None:
    mai("kb", "create", "docs")
    assert mai("kb", "list").err == ""
    configured = load_context().settings.knowledge.embedder
    with load_context().session() as session:
        collection = session.exec(select(KnowledgeCollection)).one()
        collection.embedder = "some-other-model"
        session.add(collection)
    listed = mai("kb", "list", "docs")
    assert "re-index it with  mai kb reindex docs --embedder " + configured in listed.err
    assert "no documents yet" in listed.out
