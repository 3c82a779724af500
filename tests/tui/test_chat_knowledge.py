"""Documents in the chat: `#` completion, answers from a real small collection with their
sources under them, the sources dialog and a passage read in its document."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import OptionList, Static

from mai_tui.core.context import load_context
from mai_tui.core.knowledge import manage
from mai_tui.core.knowledge.ingest import Ingest, Outcome
from mai_tui.core.knowledge.rag import load_citations
from mai_tui.core.store.models import ChatMessage, LedgerEntry
from mai_tui.tui.app import MaiApp
from mai_tui.tui.screens.chat import ChatScreen
from mai_tui.tui.screens.sources import PassageScreen, SourcesScreen
from mai_tui.tui.widgets.message import MessageView
from mai_tui.tui.widgets.prompt import PromptBox
from mai_tui.tui.widgets.references import ReferenceList
from mai_tui.tui.widgets.sources import SourcesList, source_line
from tests.fakes.server import FakeServer, Status, Stream
from tests.fakes.wire import openrouter_chunks
from tests.tui.helpers import steady_cursor, wait_until

ROUTE = "/api/v1/chat/completions"
# CI places the shared folder next to the repository: <repo>/../shared/fixtures/docs.
DOCS = Path(__file__).resolve().parents[2].parent / "shared" / "fixtures" / "docs"
DECK = DOCS / "pptx" / "sample-presentation.pptx"
HANDBOOK = DOCS / "docx" / "us-trustee-handbook-1p.docx"


@pytest.fixture
def samples() -> str:
    """A collection `samples` holding a four-slide deck and a one-page handbook (real loaders,
    chunking, the bundled MiniLM embedder and LanceDB)."""
    context = load_context()
    manage.create_collection(context, "samples")
    summary = Ingest(context, "samples").run([DECK, HANDBOOK])
    assert [r.outcome for r in summary.results] == [Outcome.INDEXED, Outcome.INDEXED]
    return "samples"


def stored() -> list[ChatMessage]:
    with load_context().session(write=False) as session:
        return list(session.exec(select(ChatMessage).order_by(ChatMessage.id)).all())  # type: ignore[arg-type]


def notes(app: MaiApp) -> list[str]:
    return [str(n.message) for n in app._notifications]


def shown(widget: Static) -> str:
    return str(widget.render())


async def ready(pilot: Pilot[Any]) -> None:
    app = pilot.app
    assert isinstance(app, MaiApp)
    await wait_until(pilot, lambda: app.context is not None)
    await wait_until(pilot, lambda: bool(app.chat.query_one(PromptBox).reference_names))


async def send(pilot: Pilot[Any], text: str) -> None:
    box = pilot.app.screen.query_one(PromptBox)
    box.load_text(text)
    box.focus()
    await pilot.press("enter")


def offered(app: MaiApp) -> list[str]:
    names = app.chat.query_one(ReferenceList)
    if not names.display:
        return []
    return [str(names.get_option_at_index(i).id) for i in range(names.option_count)]


def source_lines(view: MessageView) -> list[tuple[str, bool]]:
    """(line, cited) for each source under an answer."""
    return [(shown(line), line.has_class("-cited")) for line in view.query(".source").results(Static)]


async def test_typing_a_hash_offers_collections_and_files(openrouter: FakeServer, samples: str) -> None:
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        box = app.chat.query_one(PromptBox)
        box.focus()
        await pilot.press("w", "h", "a", "t", "space", "#", "s", "a", "m")
        await wait_until(pilot, lambda: offered(app) == ["samples", "sample-presentation.pptx"])
        options = app.chat.query_one(ReferenceList)
        assert "collection" in str(options.get_option_at_index(0).prompt)
        assert "file" in str(options.get_option_at_index(1).prompt)

        await pilot.press("tab")  # takes the highlighted name: the collection
        await wait_until(pilot, lambda: box.text == "what #samples ")
        assert offered(app) == []

        await pilot.press("#", "s", "a", "m")
        await wait_until(pilot, lambda: len(offered(app)) == 2)
        await pilot.press("down", "enter")  # Enter takes the file; it does not send
        await wait_until(pilot, lambda: box.text == "what #samples #sample-presentation.pptx ")
        assert not openrouter.requests
        assert app.chat.query_one(PromptBox).has_focus

        await pilot.press("#", "u")
        await wait_until(pilot, lambda: offered(app) == ["us-trustee-handbook-1p.docx"])
        await pilot.press("escape")  # closes the list, and only the list
        await wait_until(pilot, lambda: offered(app) == [])
        assert box.text.endswith("#u")
        await pilot.press("s")  # the list stays closed for this `#`
        assert offered(app) == []
        await pilot.press("space", "#")
        await wait_until(pilot, lambda: len(offered(app)) == 3)  # a bare `#` offers everything


async def test_an_answer_from_a_collection_cites_its_sources(openrouter: FakeServer, samples: str) -> None:
    reply = "The deck's second content slide covers topics [2]; see also the introduction [1]."
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks([reply], cost="0.00002")))
    app = MaiApp()
    async with app.run_test(size=(110, 36)) as pilot:
        await ready(pilot)
        await send(pilot, "#samples What is on the second content slide?")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])

        body = openrouter.requests[0].json()
        asked = body["messages"][-1]["content"]
        assert "<sources>" in asked
        assert "sample-presentation.pptx, slide" in asked
        assert asked.endswith("Question: What is on the second content slide?")
        prompt, answer = stored()
        assert prompt.content == "#samples What is on the second content slide?"  # what the user typed
        passages = load_citations(answer.citations)
        assert passages
        assert {p.file for p in passages} <= {DECK.name, HANDBOOK.name}
        with load_context().session(write=False) as session:
            assert [e.kind for e in session.exec(select(LedgerEntry)).all()] == ["rag"]

        view = app.chat.query(MessageView).last()
        await wait_until(pilot, lambda: bool(view.query(SourcesList)) and source_lines(view)[1][1])
        lines = source_lines(view)
        assert len(lines) == len(passages)
        assert [cited for _line, cited in lines][:2] == [True, True]
        assert not any(cited for _line, cited in lines[2:])
        assert lines[1][0].startswith(f"[2] {passages[1].location()}")

        await pilot.press("ctrl+o")  # the sources of the last answer
        await wait_until(pilot, lambda: isinstance(app.screen, SourcesScreen))
        choices = app.screen.query_one(OptionList)
        assert choices.option_count == len(passages)
        await pilot.press("down", "up", "enter")  # the source the answer cites first: [2]
        await wait_until(pilot, lambda: isinstance(app.screen, PassageScreen))
        passage_screen = app.screen
        assert isinstance(passage_screen, PassageScreen)
        await wait_until(pilot, lambda: "Esc goes back" in shown(passage_screen.query_one("#passage-note", Static)))
        assert shown(passage_screen.query_one("#passage-where", Static)) == f"[2] {passages[1].location()}"
        assert passages[1].text.strip()[:30] in shown(passage_screen.query_one("#passage-cited", Static))
        around = [shown(piece) for piece in passage_screen.query(".passage-around").results(Static)]
        assert around
        assert all(around)
        assert "— slide " in " ".join(shown(label) for label in passage_screen.query(".passage-page").results(Static))

        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, SourcesScreen))
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))

        # Reopened from the list, the answer still shows its sources.
        await pilot.press("ctrl+n")
        await wait_until(pilot, lambda: not app.chat.query(MessageView))
        await app.on_chat_screen_open(ChatScreen.Open(answer.conversation_id))
        await wait_until(pilot, lambda: len(app.chat.query(MessageView)) == 2)
        assert source_lines(app.chat.query(MessageView).last()) == lines


async def test_a_regenerated_answer_gets_the_same_sources(openrouter: FakeServer, samples: str) -> None:
    openrouter.route(
        "POST", ROUTE, Stream(openrouter_chunks(["First [1]."])), Stream(openrouter_chunks(["Second [2]."]))
    )
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await send(pilot, "#samples What does the title slide say?")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(stored()) == 3 and stored()[-1].status == "complete")
        first, again = (request.json()["messages"][-1]["content"] for request in openrouter.requests)
        assert again == first  # the same passages, not searched again
        assert stored()[-1].citations == stored()[1].citations
        view = app.chat.query(MessageView).last()
        await wait_until(pilot, lambda: view.message.content == "Second [2]." and bool(view.query(".source.-cited")))
        assert [cited for _line, cited in source_lines(view)][:2] == [False, True]


async def test_a_collection_with_nothing_found_still_asks_and_says_so(openrouter: FakeServer, samples: str) -> None:
    manage.create_collection(load_context(), "empty")
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["The sources are empty."])))
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await send(pilot, "#empty anything in there?")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        assert any("No passages found in #empty" in note for note in notes(app))
        assert "<sources>\n\n</sources>" in openrouter.requests[0].json()["messages"][-1]["content"]
        assert not app.chat.query(SourcesList)


async def test_a_failing_search_keeps_the_prompt_in_the_box(
    openrouter: FakeServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FakeServer() as ollama:
        monkeypatch.setenv("OLLAMA_BASE_URL", ollama.base_url)
        ollama.route("POST", "/v1/embeddings", Status(400, {"error": {"message": "model 'nomic' not found"}}))
        manage.create_collection(load_context(), "remote", embedder="ollama:nomic")
        app = MaiApp()
        async with app.run_test(size=(100, 30)) as pilot:
            await ready(pilot)
            await send(pilot, "#remote what do the notes say?")
            await wait_until(pilot, lambda: app.chat.query_one(PromptBox).text == "#remote what do the notes say?")
            await wait_until(pilot, lambda: bool(notes(app)))
            assert "nomic" in notes(app)[-1]
            assert not openrouter.requests
            assert stored() == []
            assert shown(app.chat.query_one("#notice", Static)) == ""


async def test_sources_when_no_answer_has_any(openrouter: FakeServer) -> None:
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await wait_until(pilot, lambda: app.context is not None)
        await pilot.press("ctrl+o")
        await wait_until(pilot, lambda: bool(notes(app)))
        assert "No answer here has sources" in notes(app)[-1]
        assert isinstance(app.screen, ChatScreen)


def test_answer_with_sources_snapshot(snap_compare: Any, openrouter: FakeServer, samples: str) -> None:
    reply = "Slide 3 lists **Topic 1** and its sub-points [2]."
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks([reply])))

    async def converse(pilot: Pilot[Any]) -> None:
        await ready(pilot)
        await send(pilot, "#samples What is on the second content slide?")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        app = pilot.app
        view = app.screen.query(MessageView).last()
        await wait_until(pilot, lambda: bool(view.query(".source.-cited")))
        await wait_until(pilot, lambda: "$" in str(app.sub_title))
        for shown_view in app.screen.query(MessageView):
            if shown_view.message.duration_ms is not None:
                shown_view.message.duration_ms = 1500
                shown_view.refresh_meta()
        steady_cursor(app)
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(110, 34), run_before=converse)


def test_a_source_from_low_quality_text_is_marked() -> None:
    from mai_tui.core.knowledge.retrieval import Passage

    scanned = Passage(
        collection="c",
        document_id=1,
        file="scan.pdf",
        path="/docs/scan.pdf",
        kind="pdf",
        page=3,
        heading="Intro\x1b[2J",
        text="garbled",
        start=0,
        end=7,
        score=0.1,
        similarity=None,
        low_quality=True,
    )
    line = source_line(1, scanned)
    assert line.startswith("[1] scan.pdf, page 3 — Intro")
    assert "\x1b" not in line  # headings come from documents: shown inert
    assert line.endswith("⚠ low-quality text")
    assert "-low-quality" in SourcesList([scanned], "see [1]")._line_classes(1, scanned)
