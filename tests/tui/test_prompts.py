"""Saved prompts in the TUI: `/` completion, the form that fills placeholders before sending
(checked against what the fake provider received), Esc giving the text back, and managing
the library from the palette."""

from __future__ import annotations

from typing import Any

from sqlmodel import select
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static, TextArea

from mai_tui.core.chat import prompts
from mai_tui.core.context import load_context
from mai_tui.core.store.models import ChatMessage, SavedPrompt
from mai_tui.tui.app import MaiApp
from mai_tui.tui.screens.chat import ChatScreen
from mai_tui.tui.screens.dialogs import ConfirmDialog
from mai_tui.tui.screens.prompt_form import PromptForm
from mai_tui.tui.screens.prompts import PromptEditor, PromptsScreen
from mai_tui.tui.widgets.prompt import PromptBox
from mai_tui.tui.widgets.references import ReferenceList
from tests.fakes.server import FakeServer, Stream
from tests.fakes.wire import openrouter_chunks
from tests.tui.helpers import steady_cursor, wait_until

ROUTE = "/api/v1/chat/completions"
LIBRARY = {
    "email": ("Email", "Write to {{to}} about {{topic|the plan}}.\nKeep it short, not {formal}."),
    "fix": ("Fix grammar", "Fix the grammar of the text below."),
    "translate": ("Translate", "Translate into {{language}}:"),
    "tldr": ("Summary in one line", "Summarize {{text}} in one line."),
}


def library(commands: tuple[str, ...] = tuple(LIBRARY)) -> None:
    """Saved prompts made through the core (what `mai prompts add` does)."""
    context = load_context()
    with context.session() as session:
        user = context.current_user(session)
        for command in commands:
            title, content = LIBRARY[command]
            prompts.add(session, user, command, content, title=title)


def stored() -> list[ChatMessage]:
    with load_context().session(write=False) as session:
        return list(session.exec(select(ChatMessage).order_by(ChatMessage.id)).all())  # type: ignore[arg-type]


def saved() -> dict[str, tuple[str, str]]:
    with load_context().session(write=False) as session:
        return {p.command: (p.title, p.content) for p in session.exec(select(SavedPrompt)).all()}


def asked(server: FakeServer) -> list[str]:
    """The last message of each request the fake provider received: what the user sent."""
    return [str(request.json()["messages"][-1]["content"]) for request in server.requests]


async def ready(pilot: Pilot[Any], *, commands: bool = True) -> MaiApp:
    app = pilot.app
    assert isinstance(app, MaiApp)
    await wait_until(pilot, lambda: app.context is not None)
    if commands:
        await wait_until(pilot, lambda: bool(app.chat.query_one(PromptBox).command_names))
    return app


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


def fields(app: MaiApp) -> list[Input]:
    return list(app.screen.query(Input).results(Input))


def steady_inputs(app: MaiApp) -> None:
    for field in fields(app):
        field.cursor_blink = False
        field.refresh()


async def test_a_leading_slash_offers_saved_prompts_and_takes_one(openrouter: FakeServer) -> None:
    library()
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        box = app.chat.query_one(PromptBox)
        box.focus()
        await pilot.press("/")
        await wait_until(pilot, lambda: offered(app) == ["email", "fix", "tldr", "translate"])
        first = str(app.chat.query_one(ReferenceList).get_option_at_index(0).prompt)
        assert "/email" in first
        assert "Email" in first  # the title beside the command

        await pilot.press("t")
        await wait_until(pilot, lambda: offered(app) == ["tldr", "translate"])
        await pilot.press("down", "tab")  # takes the highlighted one
        await wait_until(pilot, lambda: box.text == "/translate ")
        assert offered(app) == []
        assert not openrouter.requests

        box.clear()
        await pilot.press("/", "f")
        await wait_until(pilot, lambda: offered(app) == ["fix"])
        await pilot.press("escape")  # closes the list, and only the list
        await wait_until(pilot, lambda: offered(app) == [])
        assert box.text == "/f"

        box.clear()
        await pilot.press("a", "space", "/", "t")  # a slash later in the text is no command
        await pilot.pause()
        assert offered(app) == []
        box.clear()
        await pilot.press("#", "/", "t")
        await pilot.pause()
        assert offered(app) == []


async def test_the_form_fills_the_placeholders_and_the_filled_text_is_sent(openrouter: FakeServer) -> None:
    openrouter.route("POST", ROUTE, Stream(openrouter_chunks(["Dear Grace…"])))
    library()
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await send(pilot, "/email Grace")  # what follows the command is the first value
        await wait_until(pilot, lambda: isinstance(app.screen, PromptForm))
        to, topic = fields(app)
        assert to.value == "Grace"
        assert topic.has_focus  # the first field still empty
        assert topic.placeholder == "the plan"

        to.value = ""
        await pilot.press("enter")  # Enter on the last field sends: but a value is missing
        problem = str(app.screen.query_one("#prompt-form-problem", Static).render())
        assert "give a value for {{to}}" in problem
        assert to.has_focus
        assert isinstance(app.screen, PromptForm)

        await pilot.press(*"Ada", "enter")  # Enter moves on to the next field
        assert topic.has_focus
        await pilot.press(*"the budget", "enter")
        await wait_until(pilot, lambda: [m.status for m in stored()][-1:] == ["complete"])
        assert isinstance(app.screen, ChatScreen)

    filled = "Write to Ada about the budget.\nKeep it short, not {formal}."
    assert asked(openrouter) == [filled]
    assert stored()[0].content == filled


async def test_a_default_a_single_placeholder_and_plain_prompts_need_no_form(openrouter: FakeServer) -> None:
    openrouter.route("POST", ROUTE, *(Stream(openrouter_chunks([f"Answer {n}."])) for n in range(4)))
    library()
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)

        await send(pilot, "/email Grace")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptForm))
        await pilot.click("#send")  # the topic left blank: its default
        await wait_until(pilot, lambda: len(stored()) == 2 and stored()[-1].status == "complete")

        await send(pilot, "/translate German")  # the only placeholder: sent at once
        await wait_until(pilot, lambda: len(stored()) == 4 and stored()[-1].status == "complete")
        await send(pilot, "/fix\nteh text")  # no placeholder: what follows is appended
        await wait_until(pilot, lambda: len(stored()) == 6 and stored()[-1].status == "complete")
        await send(pilot, "/nothing like that")  # no such prompt: sent as typed
        await wait_until(pilot, lambda: len(stored()) == 8 and stored()[-1].status == "complete")
        assert isinstance(app.screen, ChatScreen)

    assert asked(openrouter) == [
        "Write to Grace about the plan.\nKeep it short, not {formal}.",
        "Translate into German:",
        "Fix the grammar of the text below.\n\nteh text",
        "/nothing like that",
    ]


async def test_escape_in_the_form_puts_the_text_back(openrouter: FakeServer) -> None:
    library()
    app = MaiApp()
    async with app.run_test(size=(100, 30)) as pilot:
        await ready(pilot)
        await send(pilot, "/email Grace")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptForm))
        await pilot.press(*"budget")
        await pilot.press("escape")
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        box = app.chat.query_one(PromptBox)
        await wait_until(pilot, lambda: box.text == "/email Grace")
        assert box.has_focus
        assert box.sent == ["/email Grace"]  # ↑ recalls it as typed
    assert openrouter.requests == []
    assert stored() == []


async def open_library(pilot: Pilot[Any]) -> PromptsScreen:
    """Ctrl+P, "Prompts", Enter: the way a user finds the library."""
    app = pilot.app
    await pilot.press("ctrl+p")
    await pilot.press(*"Prompts")
    await pilot.pause(0.3)  # the palette searches as the user types
    await pilot.press("enter")
    await wait_until(pilot, lambda: isinstance(app.screen, PromptsScreen))
    await pilot.pause()
    assert isinstance(app.screen, PromptsScreen)
    return app.screen


def rows(screen: PromptsScreen) -> list[list[str]]:
    table = screen.query_one(DataTable)
    return [[str(cell) for cell in table.get_row_at(index)] for index in range(table.row_count)]


async def edit(pilot: Pilot[Any], command: str | None, title: str | None, content: str | None) -> PromptEditor:
    """Fill the open editor (None leaves a field as it is) and press Ctrl+S."""
    editor = pilot.app.screen
    assert isinstance(editor, PromptEditor)
    if command is not None:
        editor.query_one("#prompt-editor-command", Input).value = command
    if title is not None:
        editor.query_one("#prompt-editor-title", Input).value = title
    if content is not None:
        editor.query_one("#prompt-editor-content", TextArea).load_text(content)
    await pilot.press("ctrl+s")
    await pilot.pause()
    return editor


async def test_add_edit_and_delete_prompts_in_the_library(openrouter: FakeServer) -> None:
    app = MaiApp()
    async with app.run_test(size=(110, 32)) as pilot:
        await ready(pilot, commands=False)
        screen = await open_library(pilot)
        assert "No saved prompts yet" in str(screen.query_one("#prompts-empty", Static).render())

        await pilot.press("n")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptEditor))
        await pilot.press(*"review", "tab", *"Code review", "tab")
        assert app.screen.query_one("#prompt-editor-content", TextArea).has_focus
        await pilot.press(*"Review this {{language}} code:")
        await pilot.press("ctrl+s")
        await wait_until(pilot, lambda: app.screen is screen)
        assert rows(screen) == [["/review", "Code review", "language"]]
        assert saved() == {"review": ("Code review", "Review this {{language}} code:")}
        assert "Review this" in str(screen.query_one("#prompts-preview", Static).render())

        await pilot.press("n")  # a taken command: the dialog says so and stays open
        await wait_until(pilot, lambda: isinstance(app.screen, PromptEditor))
        editor = await edit(pilot, "review", "", "Again")
        assert app.screen is editor
        assert "/review is taken already" in str(editor.query_one("#prompt-editor-problem", Static).render())
        await edit(pilot, "Bad Name", None, None)
        assert "not a usable command" in str(editor.query_one("#prompt-editor-problem", Static).render())
        await edit(pilot, "again", None, None)
        await wait_until(pilot, lambda: app.screen is screen)
        assert [row[0] for row in rows(screen)] == ["/again", "/review"]
        assert screen.query_one(DataTable).cursor_row == 0  # on the one just added

        await pilot.press("down", "enter")  # Enter edits the highlighted prompt
        await wait_until(pilot, lambda: isinstance(app.screen, PromptEditor))
        assert app.screen.query_one("#prompt-editor-command", Input).value == "review"
        assert app.screen.query_one("#prompt-editor-content", TextArea).text == "Review this {{language}} code:"
        await edit(pilot, "code-review", None, "Review this {{language}} code for {{goal|bugs}}:")
        await wait_until(pilot, lambda: app.screen is screen)
        assert saved()["code-review"] == ("Code review", "Review this {{language}} code for {{goal|bugs}}:")
        assert "review" not in saved()
        assert rows(screen)[1] == ["/code-review", "Code review", "language, goal"]

        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("n")  # no: nothing happens
        await wait_until(pilot, lambda: app.screen is screen)
        assert len(saved()) == 2
        await pilot.press("d")
        await wait_until(pilot, lambda: isinstance(app.screen, ConfirmDialog))
        await pilot.press("y")
        await wait_until(pilot, lambda: app.screen is screen and len(rows(screen)) == 1)
        assert list(saved()) == ["again"]

        await pilot.press("escape")  # back to the chat, where `/` offers the library as it is now
        await wait_until(pilot, lambda: isinstance(app.screen, ChatScreen))
        box = app.chat.query_one(PromptBox)
        box.focus()
        await pilot.press("/")
        await wait_until(pilot, lambda: offered(app) == ["again"])


def test_completion_snapshot(snap_compare: Any, openrouter: FakeServer) -> None:
    library()

    async def typing(pilot: Pilot[Any]) -> None:
        app = await ready(pilot)
        app.chat.query_one(PromptBox).focus()
        await pilot.press("/")
        await wait_until(pilot, lambda: len(offered(app)) == 4)
        await pilot.press("down")
        steady_cursor(app)
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(100, 30), run_before=typing)


def test_prompt_form_snapshot(snap_compare: Any, openrouter: FakeServer) -> None:
    library()

    async def form(pilot: Pilot[Any]) -> None:
        app = await ready(pilot)
        await send(pilot, "/email Grace")
        await wait_until(pilot, lambda: isinstance(app.screen, PromptForm))
        await pilot.pause()
        steady_inputs(app)
        await pilot.pause()

    assert snap_compare(MaiApp(), terminal_size=(100, 30), run_before=form)
