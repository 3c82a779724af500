"""The knowledge screen: collections, adding real documents with the real (offline) embedder,
searching them with no model configured, removing, and the way back to the chat."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, OptionList, Select, Static

from mai_tui.core.context import load_context
from mai_tui.core.knowledge import ingest, manage
from mai_tui.core.knowledge.embedders import get_embedder
from mai_tui.core.knowledge.ingest import Ingest
from mai_tui.tui.app import MaiApp
from mai_tui.tui.screens.chat import ChatScreen
from mai_tui.tui.screens.dialogs import ConfirmDialog
from mai_tui.tui.screens.knowledge import KnowledgeScreen
from mai_tui.tui.screens.knowledge_dialogs import AddFilesDialog, NewCollectionDialog
from mai_tui.tui.screens.sources import PassageScreen
from mai_tui.tui.widgets.add_progress import AddProgress
from mai_tui.tui.widgets.collection_search import CollectionSearch
from mai_tui.tui.widgets.paths import complete_path
from tests.fakes import WIRE
from tests.tui.helpers import wait_until

DOCS = WIRE.parent / "docs"
SLIDES = DOCS / "pptx" / "sample-presentation.pptx"  # 4 slides
SCANNED = DOCS / "bad" / "scanned-image-only-no-text.pdf"  # images only: OCR would be needed
SCANNED_SHOWN = "scanned-image-only…-text.pdf"  # a long name is cut in the middle in the table
GARBLED = DOCS / "bad" / "scanned-with-garbled-ocr.pdf"  # indexed, but its text layer is a poor OCR


async def open_knowledge(pilot: Pilot[Any]) -> KnowledgeScreen:
    app = pilot.app
    assert isinstance(app, MaiApp)
    await wait_until(pilot, lambda: app.context is not None)
    await pilot.press("f5")
    await wait_until(pilot, lambda: isinstance(app.screen, KnowledgeScreen))
    await pilot.pause()
    assert isinstance(app.screen, KnowledgeScreen)
    return app.screen


def rows(screen: KnowledgeScreen, selector: str) -> list[list[str]]:
    table = screen.query_one(selector, DataTable)
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


def shown(screen: KnowledgeScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).visual)


async def add(pilot: Pilot[Any], screen: KnowledgeScreen, path: Path) -> None:
    """A (add), type the path, Enter; then wait until the add has finished."""
    await pilot.press("a")
    await wait_until(pilot, lambda: isinstance(pilot.app.screen, AddFilesDialog))
    pilot.app.screen.query_one("#add-path", Input).value = str(path)
    await pilot.press("enter")
    await wait_until(pilot, lambda: pilot.app.screen is screen)
    await wait_until(pilot, lambda: not screen.adding())
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def seed(name: str = "slides", files: tuple[Path, ...] = (SLIDES, SCANNED)) -> None:
    """A collection with documents, made through the core (what `mai kb` does)."""
    context = load_context()
    manage.create_collection(context, name, embedder="minilm")
    Ingest(context, name).run(list(files))


async def test_create_add_search_remove_and_back_to_chat(tmp_path: Path) -> None:
    notes: list[str] = []
    app = MaiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_knowledge(pilot)
        assert "No collections yet" in shown(screen, "#kb-empty")
        screen.notify = lambda message, **_: notes.append(str(message))  # type: ignore[method-assign]

        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, NewCollectionDialog))
        dialog = app.screen
        assert dialog.query_one("#collection-embedder", Select).value == "minilm"
        await pilot.press(*"my deck")  # a space is not allowed in a name: said in the dialog
        await pilot.press("enter")
        assert "not a usable collection name" in str(dialog.query_one("#new-collection-problem", Static).visual)
        dialog.query_one("#collection-name", Input).value = "deck"
        await pilot.press("enter")
        await wait_until(pilot, lambda: app.screen is screen and bool(rows(screen, "#kb-collections")))
        assert rows(screen, "#kb-collections") == [["deck", "minilm", "—", "—"]]
        assert not screen.query_one("#kb-empty").display

        # A copy in a folder of its own: the folder is added with everything in it.
        folder = tmp_path / "papers"
        folder.mkdir()
        shutil.copy(SLIDES, folder)
        shutil.copy(SCANNED, folder)
        await add(pilot, screen, folder)
        documents = {row[0]: row[1:] for row in rows(screen, "#kb-documents")}
        kind, pages, chunks, status = documents["sample-presentation.pptx"]
        assert (kind, pages, status) == ("pptx", "4", "indexed")
        assert int(chunks) >= 1
        assert documents[SCANNED_SHOWN] == ["—", "—", "—", "failed: needs OCR"]
        assert any("1 indexed · 0 unchanged · 0 skipped · 1 failed" in note for note in notes)
        assert rows(screen, "#kb-collections")[0][2] == "2"
        assert not screen.query_one(AddProgress).display

        # The failed one's reason in full under the table.
        table = screen.query_one("#kb-documents", DataTable)
        table.focus()
        table.move_cursor(row=[r[0] for r in rows(screen, "#kb-documents")].index(SCANNED_SHOWN))
        await pilot.pause()
        assert "OCR" in shown(screen, "#kb-detail")

        # Search with no model configured at all: only the embedder runs.
        assert app.context is not None
        assert not app.context.settings.default_model
        await pilot.press("slash")
        screen.query_one("#kb-search", Input).value = "the table with A1, B2 and C2"
        await pilot.press("enter")
        results = screen.query_one("#kb-passages", OptionList)
        await wait_until(pilot, lambda: results.option_count > 0)
        best = screen.query_one(CollectionSearch).passages[0]
        assert best.file == "sample-presentation.pptx"
        assert best.page == 4  # the slide with the table
        first = str(results.get_option_at_index(0).prompt.renderables[0])  # type: ignore[union-attr]
        assert first.startswith("[1] sample-presentation.pptx, slide 4 — This is kinda backwards, huh?")
        assert "similarity" in first
        assert "passages, best first" in shown(screen, "#kb-search-status")
        await pilot.press("enter")  # the highlighted passage in full, in its document
        await wait_until(pilot, lambda: isinstance(app.screen, PassageScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: app.screen is screen)

        # Remove the scanned PDF: confirm first.
        table.focus()
        table.move_cursor(row=[r[0] for r in rows(screen, "#kb-documents")].index(SCANNED_SHOWN))
        await pilot.press("delete")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_until(pilot, lambda: [r[0] for r in rows(screen, "#kb-documents")] == ["sample-presentation.pptx"])
        assert any("scanned-image-only-no-text.pdf removed from deck." in note for note in notes)

        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))


async def test_adding_reports_progress_and_escape_cancels_the_rest(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedder is held at its first call, so Escape lands while the first file is embedded:
    that file is finished, the second one is not added."""
    seed("deck", ())
    folder = tmp_path / "two"
    folder.mkdir()
    shutil.copy(SLIDES, folder / "a-slides.pptx")
    shutil.copy(SLIDES, folder / "b-slides.pptx")
    gate, embedding = threading.Event(), threading.Event()

    def held(*args: Any, **kwargs: Any) -> Any:
        embedder = get_embedder(*args, **kwargs)

        class Held:
            def __getattr__(self, name: str) -> Any:
                return getattr(embedder, name)

            def embed_passages(self, texts: list[str]) -> Any:
                embedding.set()
                gate.wait(timeout=30)
                return embedder.embed_passages(texts)

        return Held()

    monkeypatch.setattr(ingest, "get_embedder", held)
    messages: list[Any] = []
    notes: list[str] = []
    app = MaiApp()
    async with app.run_test(size=(120, 40), message_hook=messages.append) as pilot:
        screen = await open_knowledge(pilot)
        screen.notify = lambda message, **_: notes.append(str(message))  # type: ignore[method-assign]
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, AddFilesDialog))
        app.screen.query_one("#add-path", Input).value = str(folder)
        await pilot.press("enter")
        await wait_until(pilot, embedding.is_set)
        progress = screen.query_one(AddProgress)
        assert progress.display
        assert "File 1 of 2: a-slides.pptx" in str(progress.query_one("#add-current", Static).visual)
        await pilot.press("escape")  # cancels the add; the screen stays
        assert progress.cancel is not None
        assert progress.cancel.is_set()
        gate.set()
        await wait_until(pilot, lambda: bool(notes))
        assert isinstance(app.screen, KnowledgeScreen)
        assert notes == ["1 indexed · 0 unchanged · 0 skipped · 0 failed · 1 not added (cancelled)"]
        assert [row[0] for row in rows(screen, "#kb-documents")] == ["a-slides.pptx"]
        assert not progress.display
    # Each report once (the hook sees a message at every widget it bubbles through).
    reports = list({id(m): m.progress for m in messages if isinstance(m, AddProgress.Progressed)}.values())
    assert {r.files for r in reports} == {2}
    finished = [(r.file.name, r.result.outcome.value, r.chunks_done, r.chunks) for r in reports if r.result]
    assert finished == [("a-slides.pptx", "indexed", 4, 4), ("b-slides.pptx", "cancelled", 0, 0)]


async def test_deleting_a_collection_asks_first_and_brings_back_the_empty_hint() -> None:
    seed("notes", (SLIDES,))
    app = MaiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_knowledge(pilot)
        assert [row[0] for row in rows(screen, "#kb-collections")] == ["notes"]
        screen.query_one("#kb-collections", DataTable).focus()
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")  # no: nothing happens
        await wait_until(pilot, lambda: app.screen is screen)
        assert rows(screen, "#kb-collections")
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_until(pilot, lambda: screen.query_one("#kb-empty").display)
    assert manage.overview(load_context()) == []


async def test_a_missing_path_is_said_in_the_dialog_and_a_refusal_is_a_notification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed("team", (SLIDES,))
    from mai_tui.core.accounts import add_user

    context = load_context()
    with context.session() as session:
        add_user(session, context.current_user(session), "guest")
    monkeypatch.setenv("MAI_USER", "guest")  # may search the collection, not change it
    notes: list[tuple[str, str]] = []
    app = MaiApp()
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_knowledge(pilot)
        screen.notify = lambda message, severity="information", **_: notes.append((str(message), severity))  # type: ignore[method-assign]
        await pilot.press("a")
        await wait_until(pilot, lambda: isinstance(app.screen, AddFilesDialog))
        dialog = app.screen
        dialog.query_one("#add-path", Input).value = "/no/such/place.pdf"
        await pilot.press("enter")
        assert "No such file or folder: /no/such/place.pdf" in str(dialog.query_one("#add-problem", Static).visual)
        dialog.query_one("#add-path", Input).value = str(SLIDES)
        await pilot.press("enter")
        await wait_until(pilot, lambda: bool(notes))
        assert notes[0] == ("only its owner and admins may change the collection 'team'", "error")
        assert app.is_running


async def test_knowledge_is_in_the_command_palette() -> None:
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.context is not None)
        commands = {command.title: command for command in app.get_system_commands(app.screen)}
        commands["Knowledge"].callback()
        await wait_until(pilot, lambda: isinstance(app.screen, KnowledgeScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))


def test_path_completion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "reports").mkdir()
    (tmp_path / "readme.md").write_text("x")
    (tmp_path / ".hidden").write_text("x")
    assert complete_path(f"{tmp_path}/rep") == f"{tmp_path}/reports/"
    assert complete_path(f"{tmp_path}/rea") == f"{tmp_path}/readme.md"
    assert complete_path(f"{tmp_path}/readme.md") is None
    assert complete_path(f"{tmp_path}/") == f"{tmp_path}/readme.md"  # hidden entries only once "." is typed
    assert complete_path(f"{tmp_path}/.h") == f"{tmp_path}/.hidden"
    assert complete_path(f"{tmp_path}/nothing/here") is None
    monkeypatch.setenv("HOME", str(tmp_path))
    assert complete_path("~/rep") == "~/reports/"  # the ~ stays as typed
    monkeypatch.chdir(tmp_path)
    assert complete_path("rea") == "readme.md"


def test_knowledge_screen_snapshot(snap_compare: Any) -> None:
    seed("deck", (SLIDES, SCANNED, GARBLED))
    seed("handbooks", ())

    async def open_it(pilot: Pilot[Any]) -> None:
        screen = await open_knowledge(pilot)
        table = screen.query_one("#kb-documents", DataTable)
        table.focus()
        await pilot.press("down")  # the failed one: why, in full, under the table
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(120, 30), run_before=open_it)


def test_empty_knowledge_screen_snapshot(snap_compare: Any) -> None:
    async def open_it(pilot: Pilot[Any]) -> None:
        await open_knowledge(pilot)

    assert snap_compare(MaiApp(), terminal_size=(120, 30), run_before=open_it)
