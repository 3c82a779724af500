"""The prompt library: placeholders, filling them in, `/command` in the prompt box, and the
saved prompts themselves on every database."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session

from mai_tui.core.accounts import ensure_user
from mai_tui.core.chat import prompts
from mai_tui.core.chat.prompts import Invocation, Variable
from mai_tui.core.context import load_context
from mai_tui.core.errors import InvalidInput, NotFound, PermissionDenied
from mai_tui.core.store.models import Role, SavedPrompt, User

# --- placeholders (no database) -----------------------------------------------------------


def test_variables_are_distinct_and_in_order_of_appearance() -> None:
    content = "Translate {{text}} into {{ language | French }}, then {{text}} again for {{who-asks}}."
    assert prompts.variables(content) == ["text", "language", "who-asks"]
    assert prompts.placeholders(content) == [
        Variable("text"),
        Variable("language", "French"),
        Variable("who-asks"),
    ]


@pytest.mark.parametrize(
    "content",
    [
        "plain {name} in single braces",
        "empty {{ }} and {{}}",
        "a number {{2x}} is no name",
        "unclosed {{name and {{other",
        "a code sample: def f(): return {{'a': 1}}",
    ],
)
def test_what_is_not_a_placeholder_stays_as_written(content: str) -> None:
    assert prompts.variables(content) == []
    assert prompts.fill(content, {}) == content


def test_fill_puts_values_in_and_defaults_where_left_blank() -> None:
    content = "Say {{greeting|hello}} to {{ name }} in {name} style; {{name}} again."
    filled = prompts.fill(content, {"name": "Ada", "greeting": "  "})
    assert filled == "Say hello to Ada in {name} style; Ada again."


def test_a_value_is_never_read_for_placeholders_again() -> None:
    assert prompts.fill("Quote: {{text}} / {{other}}", {"text": "{{other}}", "other": "x"}) == "Quote: {{other}} / x"


def test_fill_names_what_is_missing_and_what_is_unknown() -> None:
    with pytest.raises(InvalidInput, match=r"give a value for \{\{a\}\}, \{\{c\}\}"):
        prompts.fill("{{a}} {{b}} {{c}}", {"b": "given", "a": ""})
    with pytest.raises(InvalidInput, match=r"no placeholder \{\{typo\}\}"):
        prompts.fill("{{name}}", {"name": "x", "typo": "y"})


# --- `/command` in the prompt box ---------------------------------------------------------

LIBRARY = [
    SavedPrompt(command="fix", title="Fix grammar", content="Fix the grammar of the text below."),
    SavedPrompt(command="translate", title="Translate", content="Translate into {{language}}:"),
    SavedPrompt(command="email", title="Email", content="Write to {{to}} about {{topic|the plan}}."),
]


def test_expand_finds_the_command_at_the_very_start_only() -> None:
    assert prompts.expand("/fix", LIBRARY) == Invocation("fix", "Fix grammar", LIBRARY[0].content, "")
    assert prompts.expand("/FIX  teh text\nsecond line", LIBRARY) == Invocation(
        "fix", "Fix grammar", LIBRARY[0].content, "teh text\nsecond line"
    )
    assert prompts.expand("/fix\nthe text", LIBRARY) is not None
    assert prompts.expand("please /fix this", LIBRARY) is None
    assert prompts.expand(" /fix", LIBRARY) is None
    assert prompts.expand("/fixes", LIBRARY) is None  # a longer word is another command
    assert prompts.expand("/fix/this", LIBRARY) is None
    assert prompts.expand("/unknown words", LIBRARY) is None  # sent as typed
    assert prompts.expand("/", LIBRARY) is None


def test_what_is_typed_after_the_command_is_appended_or_fills_a_placeholder() -> None:
    plain = prompts.expand("/fix teh text", LIBRARY)
    assert plain is not None
    assert plain.ready() == "Fix the grammar of the text below.\n\nteh text"
    assert prompts.expand("/fix", LIBRARY).ready() == "Fix the grammar of the text below."  # type: ignore[union-attr]

    one = prompts.expand("/translate German", LIBRARY)
    assert one is not None
    assert one.ready() == "Translate into German:"  # one placeholder: sent at once
    asked = prompts.expand("/translate", LIBRARY)
    assert asked is not None
    assert asked.ready() is None  # the form asks for it
    assert asked.prefilled() == {}

    several = prompts.expand("/email Grace", LIBRARY)
    assert several is not None
    assert several.ready() is None  # the form asks for the others
    assert several.prefilled() == {"to": "Grace"}
    assert [v.name for v in several.variables] == ["to", "topic"]

    defaults_first = prompts.Invocation("sum", "Sum", "In {{count|3}} points for {{audience}}:", "sailors")
    assert defaults_first.prefilled() == {"audience": "sailors"}  # the text goes where a value is needed


@pytest.mark.parametrize("command", ["Fix", "with space", "", "x" * 65, "dot.ted", "ünï", "/"])
def test_unusable_commands_are_refused_with_a_reason(command: str) -> None:
    with pytest.raises(InvalidInput, match="lowercase letters, digits"):
        prompts.check_command(command)


def test_a_leading_slash_is_accepted() -> None:
    assert prompts.check_command(" /summarize_2-x ") == "summarize_2-x"
    assert prompts.check_command("x" * 64) == "x" * 64


# --- the library in the database ----------------------------------------------------------


@pytest.fixture
def session(database_url: str) -> Iterator[Session]:
    context = load_context()
    with context.session() as session:
        yield session


def someone(session: Session, name: str, role: Role) -> User:
    user = ensure_user(session, name)
    user.role = role.value
    session.add(user)
    session.flush()
    return user


def test_add_list_find_update_and_remove(session: Session) -> None:
    admin = load_context().current_user(session)
    saved = prompts.add(session, admin, "/summarize", "Summarize:\n\n{{text}}", title="  Summary  ")
    prompts.add(session, admin, "ask", "\n  Answer   briefly.\nThen stop.")
    assert [(p.command, p.title) for p in prompts.all_prompts(session)] == [
        ("ask", "Answer briefly."),  # no title: the first line
        ("summarize", "Summary"),
    ]
    assert saved.user_id == admin.id
    assert prompts.get(session, "/summarize").content == "Summarize:\n\n{{text}}"
    assert prompts.find(session, "nothing") is None

    before = saved.updated_at
    changed = prompts.update(session, admin, "summarize", new_command="tldr", content="TL;DR: {{text}}")
    assert (changed.command, changed.title, changed.content) == ("tldr", "Summary", "TL;DR: {{text}}")
    assert changed.updated_at >= before
    assert prompts.find(session, "summarize") is None
    prompts.update(session, admin, "tldr", title="")  # a blank title: the first line again
    assert prompts.get(session, "tldr").title == "TL;DR: {{text}}"

    prompts.remove(session, admin, "tldr")
    assert [p.command for p in prompts.all_prompts(session)] == ["ask"]
    with pytest.raises(NotFound, match="no saved prompt /tldr"):
        prompts.remove(session, admin, "tldr")
    with pytest.raises(NotFound):
        prompts.update(session, admin, "tldr", title="x")


def test_a_taken_command_bad_command_or_empty_text_is_refused(session: Session) -> None:
    admin = load_context().current_user(session)
    prompts.add(session, admin, "fix", "Fix it.")
    prompts.add(session, admin, "other", "Other.")
    with pytest.raises(InvalidInput, match="/fix is taken already"):
        prompts.add(session, admin, "fix", "Again.")
    with pytest.raises(InvalidInput, match="/fix is taken already"):
        prompts.update(session, admin, "other", new_command="fix")
    with pytest.raises(InvalidInput, match="not a usable command"):
        prompts.add(session, admin, "Fix It", "text")
    with pytest.raises(InvalidInput, match="needs some text"):
        prompts.add(session, admin, "blank", " \n ")
    with pytest.raises(InvalidInput, match="needs some text"):
        prompts.update(session, admin, "fix", content="")
    prompts.update(session, admin, "fix", new_command="fix", title="Same command")  # keeping its own command is fine
    assert [(p.command, p.title) for p in prompts.all_prompts(session)] == [
        ("fix", "Same command"),
        ("other", "Other."),
    ]


def test_only_the_author_and_admins_change_a_prompt(session: Session) -> None:
    admin = load_context().current_user(session)
    alice = someone(session, "alice", Role.USER)
    bob = someone(session, "bob", Role.USER)
    pending = someone(session, "pat", Role.PENDING)
    prompts.add(session, alice, "mine", "Alice's prompt")
    with pytest.raises(PermissionDenied, match="only its author and admins"):
        prompts.update(session, bob, "mine", title="Bob's now")
    with pytest.raises(PermissionDenied):
        prompts.remove(session, bob, "mine")
    with pytest.raises(PermissionDenied, match="pending"):
        prompts.add(session, pending, "wait", "text")
    prompts.update(session, alice, "mine", title="Still Alice's")
    prompts.remove(session, admin, "mine")
    assert prompts.all_prompts(session) == []


def test_a_long_title_and_long_content_are_kept(session: Session) -> None:
    admin = load_context().current_user(session)
    content = "word " * 20_000  # past 64 KB: MySQL's TEXT would cut it
    saved = prompts.add(session, admin, "long", content, title="t" * 300)
    session.expire_all()
    again = prompts.get(session, "long")
    assert again.content == content
    assert again.title == "t" * 199 + "…"
    assert saved.id == again.id
