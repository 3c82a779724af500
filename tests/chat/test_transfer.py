"""Export and import of conversations: our JSON round trip on every database, Markdown, the
Open WebUI and ChatGPT exports (published formats), and bad files that must import nothing."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import Session, select

from mai_tui.core.accounts import add_user, get_user
from mai_tui.core.chat import transfer
from mai_tui.core.chat import tree as trees
from mai_tui.core.context import AppContext, load_context
from mai_tui.core.errors import InvalidInput, NotFound, PermissionDenied
from mai_tui.core.store.models import ChatMessage, Conversation, ConversationTag, MessageStatus

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "exports"
OPEN_WEBUI = FIXTURES / "openwebui-export.json"
CHATGPT = FIXTURES / "chatgpt-conversations.json"

MODEL = "openrouter/openai/gpt-4o-mini"
BASE = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)
CITATIONS = [
    {
        "collection": "handbooks",
        "document_id": 3,
        "file": "maths.pdf",
        "path": "/docs/maths.pdf",
        "kind": "pdf",
        "page": 2,
        "heading": "Addition",
        "text": "2 + 2 = 4",
        "start": 0,
        "end": 9,
        "score": 0.5,
        "similarity": 0.9,
        "low_quality": False,
    }
]


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, second, tzinfo=UTC)


def _answer(session: Session, message: ChatMessage, text: str, **fields: Any) -> None:
    message.content = text
    message.status = MessageStatus.COMPLETE.value
    for name, value in fields.items():
        setattr(message, name, value)
    session.add(message)


def seed_branched(context: AppContext, owner: str | None = None) -> int:
    """A conversation with a regenerated answer, an edited prompt and a branch continued after the
    regeneration (so ids are not in tree order); the current branch is Q1 → A1 → Q2 → A2."""
    with context.session() as session:
        user = context.current_user(session) if owner is None else get_user(session, owner)
        conversation = Conversation(
            user_id=user.id,
            title="Häufige Fragen 🧪",
            model=MODEL,
            system_prompt="Be brief.",
            temperature=0.5,
            max_tokens=500,
            pinned=True,
            folder="Work",
            created_at=BASE,
        )
        session.add(conversation)
        session.flush()
        tree = trees.load(session, conversation.id or 0)
        q1, a1 = trees.add_prompt(session, tree, "What is 2 + 2?", model=MODEL, provider="openrouter", parent_id=None)
        _answer(session, a1, "4", prompt_tokens=12, completion_tokens=1, cost_usd=Decimal("0.0000123"))
        a1b = trees.regenerate(session, tree, a1.id or 0, model="anthropic/claude-x", provider="anthropic")
        _answer(session, a1b, "Four.", reasoning="2 + 2 = 4, said in words", completion_tokens=3)
        q2, a2 = trees.add_prompt(
            session, tree, "And in Python?\n\n```python\nprint(2 + 2)\n```", model=MODEL, provider="openrouter",
            parent_id=a1.id,
        )  # fmt: skip
        _answer(session, a2, "```python\n>>> 2 + 2\n4\n```", citations=json.dumps(CITATIONS, ensure_ascii=False))
        q1e, a1e = trees.edit_prompt(session, tree, q1.id or 0, "What is 2 × 2?", model=MODEL, provider="openrouter")
        _answer(session, a1e, "Also 4.")
        for minutes, message in enumerate([q1, a1, a1b, q2, a2, q1e, a1e]):
            message.created_at = message.updated_at = BASE + timedelta(minutes=minutes)
            session.add(message)
        conversation.current_leaf_id = a2.id
        conversation.updated_at = BASE + timedelta(hours=1)
        session.add(conversation)
        session.add(ConversationTag(conversation_id=conversation.id or 0, tag="maths"))
        session.add(ConversationTag(conversation_id=conversation.id or 0, tag="Übung"))
        return conversation.id or 0


def nested(tree: trees.Tree, parent_id: int | None = None) -> list[tuple[Any, ...]]:
    """The tree's shape and what each message says, with ids left out."""
    return [
        (
            m.role,
            m.content,
            m.reasoning,
            m.model,
            m.provider,
            m.created_at,
            m.prompt_tokens,
            m.completion_tokens,
            json.loads(m.citations) if m.citations else None,
            nested(tree, m.id),
        )
        for m in tree.children(parent_id)
    ]


def conversation_count(context: AppContext) -> int:
    with context.session(write=False) as session:
        return int(session.exec(select(func.count()).select_from(Conversation)).one())


def message_count(context: AppContext) -> int:
    with context.session(write=False) as session:
        return int(session.exec(select(func.count()).select_from(ChatMessage)).one())


@pytest.fixture
def context(database_url: str) -> AppContext:
    return load_context()


@pytest.fixture
def local() -> AppContext:
    """SQLite only: for checks that fail before the database is touched."""
    return load_context()


def importer(context: AppContext, path: Path) -> tuple[list[int], list[str]]:
    warnings: list[str] = []
    with context.session() as session:
        user = context.current_user(session)
        ids = transfer.import_file(session, path, user, warn=warnings.append)
    return ids, warnings


# --- round trip ----------------------------------------------------------------------------------


def test_json_round_trip_gives_the_same_tree(context: AppContext, tmp_path: Path) -> None:
    original_id = seed_branched(context)
    with context.session(write=False) as session:
        data = transfer.export_json(session, original_id)
        original = trees.load(session, original_id)
    file = tmp_path / "export.json"
    file.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")

    ids, warnings = importer(context, file)

    assert warnings == []
    [new_id] = ids
    assert new_id != original_id
    with context.session(write=False) as session:
        copy = trees.load(session, new_id)
        tags = session.exec(select(ConversationTag.tag).where(ConversationTag.conversation_id == new_id)).all()
    assert nested(copy) == nested(original)
    assert [m.content for m in copy.path()] == [m.content for m in original.path()]
    assert [m.content for m in copy.path()][:2] == ["What is 2 + 2?", "4"]
    assert len(copy.messages) == 7
    a, b = original.conversation, copy.conversation
    assert (b.title, b.model, b.system_prompt, b.max_tokens, b.pinned, b.archived, b.folder) == (
        "Häufige Fragen 🧪", MODEL, "Be brief.", 500, True, False, "Work"
    )  # fmt: skip
    assert b.temperature == pytest.approx(a.temperature)
    assert (b.created_at, b.updated_at) == (BASE, BASE + timedelta(hours=1))
    assert sorted(tags) == ["maths", "übung"]  # imported tags are normalised like any tag set in mai
    # Cost comes from the ledger only: the copy carries none; every message is complete.
    assert all(m.cost_usd is None and m.status == "complete" for m in copy.messages)
    assert any(m.cost_usd == Decimal("0.0000123") for m in original.messages)


def test_export_json_lists_every_message_with_strings_for_money_and_times(
    context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-v1-secret-never-exported")
    conversation_id = seed_branched(context)
    with context.session(write=False) as session:
        data = transfer.export_json(session, conversation_id)
    assert (data["format"], data["version"]) == ("mai-chat", 1)
    assert len(data["messages"]) == 7
    assert data["conversation"]["tags"] == ["maths", "Übung"]
    first_answer = data["messages"][1]
    assert first_answer["cost_usd"] == "0.0000123"
    assert first_answer["tokens"]["prompt_tokens"] == 12
    assert first_answer["created_at"] == "2025-03-01T09:01:00+00:00"
    assert data["conversation"]["current_leaf_id"] == data["messages"][4]["id"]
    assert data["messages"][4]["citations"] == CITATIONS
    assert "secret" not in json.dumps(data)


def test_markdown_shows_the_current_branch_and_says_there_are_others(context: AppContext) -> None:
    conversation_id = seed_branched(context)
    with context.session(write=False) as session:
        text = transfer.export_markdown(session, conversation_id)
    assert text.startswith("# Häufige Fragen 🧪\n")
    assert f"- Model: {MODEL}" in text
    assert "- Started: 2025-03-01 09:00 UTC" in text
    assert "- Tags: maths, Übung" in text
    assert "3 messages are not shown here" in text
    assert "## System prompt\n\nBe brief." in text
    assert text.count("## You") == 2
    assert text.count(f"## Assistant · {MODEL}") == 2
    assert "12 → 1 tokens · $0.0000123" in text
    assert "```python\n>>> 2 + 2\n4\n```" in text
    for other_branch in ("Four.", "What is 2 × 2?", "Also 4."):
        assert other_branch not in text


def test_only_the_owner_or_an_admin_may_export(context: AppContext) -> None:
    with context.session() as session:
        admin = context.current_user(session)  # the first user is the admin
        add_user(session, admin, "bob", "user")
    mine = seed_branched(context)
    bobs = seed_branched(context, owner="bob")
    with context.session(write=False) as session:
        bob = get_user(session, "bob")
        admin = context.current_user(session)
        with pytest.raises(PermissionDenied, match="belongs to another user"):
            transfer.export_json(session, mine, user=bob)
        assert transfer.export_json(session, bobs, user=bob)["conversation"]["title"] == "Häufige Fragen 🧪"
        assert "Häufige Fragen" in transfer.export_markdown(session, bobs, user=admin)
        with pytest.raises(NotFound):
            transfer.export_markdown(session, 999, user=admin)


def test_a_deleted_conversation_is_not_exported(context: AppContext) -> None:
    conversation_id = seed_branched(context)
    with context.session() as session:
        conversation = session.get(Conversation, conversation_id)
        assert conversation is not None
        conversation.deleted_at = BASE
        session.add(conversation)
    with context.session(write=False) as session, pytest.raises(NotFound):
        transfer.export_json(session, conversation_id)


def test_save_export_writes_atomically_and_refuses_a_missing_folder(context: AppContext, tmp_path: Path) -> None:
    conversation_id = seed_branched(context)
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "chat.md"
    target.write_text("old", encoding="utf-8")
    with context.session(write=False) as session:
        written = transfer.save_export(session, conversation_id, target, transfer.ExportFormat.MARKDOWN)
        with pytest.raises(InvalidInput, match="there is no folder"):
            transfer.save_export(session, conversation_id, tmp_path / "nope" / "x.md", transfer.ExportFormat.JSON)
        with pytest.raises(InvalidInput, match="is a folder"):
            transfer.save_export(session, conversation_id, tmp_path, transfer.ExportFormat.JSON)
    assert written == target.resolve()
    assert target.read_text(encoding="utf-8").startswith("# Häufige Fragen")
    assert [p.name for p in folder.iterdir()] == ["chat.md"]  # no temporary file left behind
    assert target.stat().st_mode & 0o077 == 0  # a private conversation stays private


# --- foreign exports ---------------------------------------------------------------------------------


def test_open_webui_export(context: AppContext) -> None:
    ids, warnings = importer(context, OPEN_WEBUI)

    assert len(ids) == 2
    assert warnings == [
        "'Grüße auf Japanisch 🇯🇵': 1 part that is not text (an image, a file, tool output) was left out"
    ]
    with context.session(write=False) as session:
        csv, greetings = (trees.load(session, cid) for cid in ids)
        tags = {
            cid: sorted(session.exec(select(ConversationTag.tag).where(ConversationTag.conversation_id == cid)).all())
            for cid in ids
        }

    chat = csv.conversation
    assert (chat.title, chat.model, chat.pinned, chat.archived) == ("Python: read a CSV file", None, False, False)
    assert (chat.created_at, chat.updated_at) == (utc(2024, 6, 1, 10, 0, 0), utc(2024, 6, 1, 10, 3, 30))
    assert tags[ids[0]] == ["csv", "python"]
    assert len(csv.messages) == 7
    [question] = csv.children(None)
    assert question.content == "How do I read a CSV file in Python?"
    first, regenerated = csv.children(question.id)  # a regenerated answer: two siblings, in their order
    assert (first.model, first.prompt_tokens, first.completion_tokens) == ("llama3.1:8b", 18, 31)
    assert (regenerated.model, regenerated.prompt_tokens, regenerated.completion_tokens) == ("gpt-4o", 14, 96)
    assert regenerated.content.startswith("With pandas it is one call:\n\n```python\nimport pandas as pd\n\ndf = ")
    asked, edited = csv.children(regenerated.id)  # an edited prompt: two sibling prompts
    assert (asked.content, edited.content) == (
        "And how do I write one?", "And if the file uses semicolons and decimal commas?"
    )  # fmt: skip
    assert [len(csv.children(asked.id)), len(csv.children(edited.id))] == [1, 1]
    assert [m.id for m in csv.path()] == [question.id, regenerated.id, edited.id, csv.children(edited.id)[0].id]
    assert [m.created_at for m in csv.path()] == [
        utc(2024, 6, 1, 10, 0, 0), utc(2024, 6, 1, 10, 1, 0), utc(2024, 6, 1, 10, 3, 20), utc(2024, 6, 1, 10, 3, 24)
    ]  # fmt: skip
    assert all(m.status == "complete" and m.cost_usd is None for m in csv.messages)

    chat = greetings.conversation
    assert (chat.title, chat.pinned, chat.max_tokens) == ("Grüße auf Japanisch 🇯🇵", True, 1024)
    assert chat.system_prompt == "Du bist ein geduldiger Übersetzer. Antworte auf Deutsch."
    assert chat.temperature == pytest.approx(0.4)
    assert chat.folder is None  # Open WebUI exports a folder's id, not its name
    assert tags[ids[1]] == ["deutsch", "translation"]
    path = greetings.path()
    assert [m.role for m in path] == ["user", "assistant", "user", "assistant"]
    assert len(greetings.messages) == 4
    # Message times in milliseconds, chat times in seconds: both land on the same clock.
    assert [m.created_at for m in path] == [
        utc(2024, 6, 2, 10, 0, 0), utc(2024, 6, 2, 10, 0, 7), utc(2024, 6, 2, 10, 1, 0), utc(2024, 6, 2, 10, 1, 6)
    ]  # fmt: skip
    assert path[1].content == "Auf Japanisch: **ミュンヘンからのご挨拶** (Myunhen kara no go-aisatsu) 🙂"
    assert (
        path[1].reasoning
        == "Der Nutzer möchte einen Gruß auf Japanisch.\n„Grüße aus München“ → ミュンヘンからのご挨拶."
    )
    assert path[2].content == "Was steht auf diesem Schild?"  # the photo is left out, with a warning
    assert path[3].content == "Auf dem Schild steht „出口“ – das heißt „Ausgang“."


def test_chatgpt_export(context: AppContext) -> None:
    ids, warnings = importer(context, CHATGPT)

    assert len(ids) == 2
    assert warnings == [
        "'Café-Bestellung auf Französisch ☕': 1 part that is not text (an image, a file, tool output) was left out"
    ]
    with context.session(write=False) as session:
        loop, cafe = (trees.load(session, cid) for cid in ids)

    chat = loop.conversation
    assert (chat.title, chat.archived, chat.pinned) == ("Off-by-one in a Python loop", False, False)
    assert (chat.created_at, chat.updated_at) == (utc(2023, 11, 14, 22, 13, 20), utc(2023, 11, 14, 22, 28, 20))
    # The null root, the hidden system message, the tool call and its output are gone; the
    # messages after them hang on the nearest message a person saw.
    assert len(loop.messages) == 5
    assert {m.role for m in loop.messages} == {"user", "assistant"}
    original, edited = loop.children(None)
    assert original.content == "Why does this loop skip the last item?\n\n```python\nxs = [1, 2, 3]\n" + (
        "for i in range(len(xs) - 1):\n    print(xs[i])\n```"
    )
    assert edited.content == "Why does my loop skip the last element? (Python 3.12, list of 3 items)"
    gpt4, gpt4o = loop.children(original.id)
    assert [(m.model, m.provider) for m in (gpt4, gpt4o)] == [("gpt-4", "openai"), ("gpt-4o", "openai")]
    [final] = loop.children(edited.id)
    assert final.content.startswith("I ran it: it printed `1` and `2` only.")
    assert [m.id for m in loop.path()] == [edited.id, final.id]
    assert [m.created_at for m in (original, gpt4, gpt4o, edited, final)] == [
        utc(2023, 11, 14, 22, 13, 30), utc(2023, 11, 14, 22, 13, 35), utc(2023, 11, 14, 22, 14, 40),
        utc(2023, 11, 14, 22, 18, 20), utc(2023, 11, 14, 22, 18, 30),
    ]  # fmt: skip
    assert not any(m.content == "1\n2\n" for m in loop.messages)

    chat = cafe.conversation
    assert (chat.title, chat.archived) == ("Café-Bestellung auf Französisch ☕", True)
    assert chat.created_at == utc(2024, 3, 9, 16, 0, 0)
    question, answer = cafe.path()
    assert question.content == "Traduis « Ich hätte gern einen Kaffee » en français, s’il te plaît."
    assert answer.content == "« Je voudrais un café, s’il vous plaît. » ☕\n\nPlus poli : « J’aimerais un café. »"


def test_a_list_of_our_exports_imports_each_one(local: AppContext, tmp_path: Path) -> None:
    context = local
    first, second = seed_branched(context), seed_branched(context)
    with context.session(write=False) as session:
        exports = [transfer.export_json(session, first), transfer.export_json(session, second)]
    exports[1]["conversation"]["title"] = "Second copy"
    file = tmp_path / "both.json"
    file.write_text(json.dumps(exports), encoding="utf-8")
    ids, _warnings = importer(context, file)
    with context.session(write=False) as session:
        assert [item.title for item in transfer.describe(session, ids)] == ["Häufige Fragen 🧪", "Second copy"]
        assert [item.messages for item in transfer.describe(session, ids)] == [7, 7]


def test_an_export_with_a_byte_order_mark_imports(local: AppContext, tmp_path: Path) -> None:
    context = local
    file = tmp_path / "bom.json"
    file.write_bytes(b"\xef\xbb\xbf" + CHATGPT.read_bytes())
    assert len(importer(context, file)[0]) == 2


# --- bad files import nothing ---------------------------------------------------------------------------


def _ours(messages: list[dict[str, Any]], current: int | None = None) -> dict[str, Any]:
    return {
        "format": "mai-chat",
        "version": 1,
        "conversation": {"title": "t", "created_at": "2025-01-01T00:00:00+00:00", "current_leaf_id": current},
        "messages": messages,
    }


def _message(key: int, parent: int | None, role: str = "user") -> dict[str, Any]:
    return {"id": key, "parent_id": parent, "role": role, "content": "x", "created_at": "2025-01-01T00:00:00Z"}


def _chatgpt_cycle() -> list[dict[str, Any]]:
    conversations: list[dict[str, Any]] = json.loads(CHATGPT.read_text(encoding="utf-8"))
    mapping = conversations[1]["mapping"]
    # The answer becomes the parent of its own question: a loop with no start.
    mapping["client-created-root"]["children"] = []
    question = next(key for key, node in mapping.items() if node["parent"] == "client-created-root")
    answer = mapping[question]["children"][0]
    mapping[question]["parent"] = answer
    return conversations


def _valid_then_broken() -> list[dict[str, Any]]:
    conversations: list[dict[str, Any]] = json.loads(CHATGPT.read_text(encoding="utf-8"))
    mapping = conversations[1]["mapping"]
    next(node for node in mapping.values() if node["parent"] == "client-created-root")["parent"] = "gone"
    return conversations  # the first conversation is fine; the second must stop the whole import


BAD_FILES: dict[str, tuple[bytes, str]] = {
    "truncated": (OPEN_WEBUI.read_bytes()[:5000], "cut off"),
    "not json": (b"title,created\nhello,2024\n", "is not valid JSON"),
    "wrong shape": (json.dumps(_ours([_message(1, None)]) | {"messages": {"1": {}}}).encode(), "'messages'"),
    "missing parent": (json.dumps(_ours([_message(1, None), _message(2, 7, "assistant")])).encode(), "'7'"),
    "message cycle": (json.dumps(_chatgpt_cycle()).encode(), "in a circle"),
    "later conversation broken": (json.dumps(_valid_then_broken()).encode(), "'gone'"),
    "unknown format": (json.dumps([{"name": "a todo list", "items": [1, 2]}]).encode(), "not a conversation export"),
    "bare value": (b"42", "not a conversation export"),
    "no conversations": (b"[]", "holds no conversations"),
    "newer version": (json.dumps(_ours([]) | {"version": 2}).encode(), "newer mai"),
    "binary garbage": (b"\x89PNG\r\n\x1a\n" + bytes((i * 167 + 13) % 256 for i in range(4096)), "binary file"),
    "latin-1 text": ('[{"title": "café"}]'.encode("latin-1"), "not UTF-8"),
    "empty file": (b"", "is empty"),
    "only whitespace": (b" \n\t\n", "is empty"),
}


@pytest.mark.parametrize(("content", "problem"), BAD_FILES.values(), ids=BAD_FILES.keys())
def test_a_bad_file_raises_invalid_input_and_imports_nothing(
    local: AppContext, tmp_path: Path, content: bytes, problem: str
) -> None:
    context = local
    seed_branched(context)  # something already there must stay exactly as it was
    before = (conversation_count(context), message_count(context))
    file = tmp_path / "export.json"
    file.write_bytes(content)
    with context.session(write=False) as session:
        user = context.current_user(session)
    with pytest.raises(InvalidInput) as raised:
        transfer.import_file(context, file, user)
    message = str(raised.value)
    assert str(file) in message
    assert problem in message
    assert "\n" not in message
    assert (conversation_count(context), message_count(context)) == before


def test_a_failed_write_takes_back_only_the_import(
    context: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Inside a caller's session, a failure half-way rolls back to the import's savepoint."""
    real_write = transfer._write

    def write_then_fail(session: Session, drafts: Any, user_id: int | None) -> list[int]:
        real_write(session, drafts, user_id)
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(transfer, "_write", write_then_fail)
    with context.session() as session:
        user = context.current_user(session)
        session.add(Conversation(user_id=user.id, title="written by the caller"))
        session.flush()
        with pytest.raises(RuntimeError):
            transfer.import_file(session, CHATGPT, user)
    with context.session(write=False) as session:
        titles = session.exec(select(Conversation.title)).all()
        messages = session.exec(select(func.count()).select_from(ChatMessage)).one()
    assert (list(titles), messages) == (["written by the caller"], 0)


def test_a_file_over_the_limit_is_refused_before_reading(
    local: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    context = local
    monkeypatch.setattr(transfer, "MAX_IMPORT_BYTES", 1024)
    with context.session() as session:
        user = context.current_user(session)
        with pytest.raises(InvalidInput, match=r"mai imports files up to 0 MB"):
            transfer.import_file(session, CHATGPT, user)
        with pytest.raises(InvalidInput, match="no such file"):
            transfer.import_file(session, tmp_path / "missing.json", user)
    assert conversation_count(context) == 0


def test_epoch_times_in_any_unit_land_on_the_same_second() -> None:
    moment = utc(2024, 6, 1, 10, 0, 0)
    seconds = int(moment.timestamp())
    for value in (seconds, seconds + 0.75, seconds * 1000 + 999, seconds * 10**6, seconds * 10**9):
        assert transfer._epoch(value) == moment
    assert transfer._epoch("2024-06-01T12:00:00+02:00") == moment
    assert transfer._epoch(True) is None
    assert transfer._epoch(-5) is None


def test_read_import_checks_without_writing(local: AppContext) -> None:
    context = local
    assert transfer.read_import(OPEN_WEBUI)[:2] == (transfer.Source.OPEN_WEBUI, 2)
    assert transfer.read_import(CHATGPT)[:2] == (transfer.Source.CHATGPT, 2)
    assert conversation_count(context) == 0


# --- odd values: refused clearly or cleaned, never a raw exception (every database) ---------------------


def _refused(context: AppContext, file: Path, problem: str) -> str:
    """Importing `file` raises InvalidInput naming it and the problem; nothing is written."""
    before = (conversation_count(context), message_count(context))
    with context.session(write=False) as session:
        user = context.current_user(session)
    with pytest.raises(InvalidInput) as raised:
        transfer.import_file(context, file, user)
    message = str(raised.value)
    assert str(file) in message
    assert problem in message
    assert "\n" not in message
    assert (conversation_count(context), message_count(context)) == before
    return message


def _file(tmp_path: Path, data: Any, name: str = "export.json") -> Path:
    file = tmp_path / name
    file.write_text(json.dumps(data), encoding="utf-8")  # ASCII: lone surrogates and NUL as \u escapes
    return file


def _one(context: AppContext, data: Any, tmp_path: Path) -> trees.Tree:
    [conversation_id], _warnings = importer(context, _file(tmp_path, data))
    with context.session(write=False) as session:
        return trees.load(session, conversation_id)


def _tags_of(context: AppContext, conversation_id: int) -> list[str]:
    with context.session(write=False) as session:
        rows = session.exec(select(ConversationTag.tag).where(ConversationTag.conversation_id == conversation_id))
        return sorted(rows.all())


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"[" * 200_000, "nested too deeply"),
        (b'{"a": ' * 200_000, "nested too deeply"),
        (b"[" * 200_000 + b"]" * 200_000, "nested too deeply"),
        (b'{"format": "mai-chat", "version": ' + b"1" * 5000 + b"}", "a number thousands of digits long"),
    ],
    ids=["open arrays", "open objects", "closed arrays", "a huge number"],
)
def test_json_too_deep_or_with_a_huge_number_is_refused(
    context: AppContext, tmp_path: Path, content: bytes, problem: str
) -> None:
    seed_branched(context)
    file = tmp_path / "deep.json"
    file.write_bytes(content)
    _refused(context, file, problem)
    with pytest.raises(InvalidInput, match=problem):
        transfer.read_import(file)


@pytest.mark.parametrize(
    ("where", "time"),
    [
        ("conversation", "0001-01-01T00:00:00+05:00"),
        ("conversation", "9999-12-31T23:00:00-05:00"),
        ("message", "9999-12-31T23:00:00-05:00"),
        ("message", "1969-12-31T23:59:59Z"),
        ("message", "2101-01-01T00:00:00Z"),
    ],
)
def test_our_export_with_a_time_outside_1970_to_2100_is_refused(
    context: AppContext, tmp_path: Path, where: str, time: str
) -> None:
    data = _ours([_message(1, None), _message(2, 1, "assistant")], current=2)
    if where == "conversation":
        data["conversation"]["created_at"] = time
    else:
        data["messages"][1]["created_at"] = time
    _refused(context, _file(tmp_path, data), f"({time}) is not between 1970 and 2100")


def test_times_at_the_edges_count_as_missing_in_foreign_exports(context: AppContext, tmp_path: Path) -> None:
    chats = json.loads(OPEN_WEBUI.read_text(encoding="utf-8"))
    chat = chats[1]
    chat["created_at"] = 10**400  # too large even for a float
    chat["updated_at"] = "9999-12-31T23:00:00-05:00"
    messages = chat["chat"]["history"]["messages"]
    first, second, *_ = messages.values()
    first["timestamp"] = 1e300
    second["timestamp"] = "0001-01-01T00:00:00+05:00"
    [_csv, conversation_id], _warnings = importer(context, _file(tmp_path, chats))
    with context.session(write=False) as session:
        tree = trees.load(session, conversation_id)
    start = utc(2024, 6, 2, 10, 0, 0)  # the chat's `timestamp`, the next time it gives
    assert tree.conversation.created_at == start
    assert tree.conversation.updated_at == utc(2024, 6, 2, 10, 1, 6)  # its newest message
    assert [m.created_at for m in tree.path()] == [start, start, utc(2024, 6, 2, 10, 1, 0), utc(2024, 6, 2, 10, 1, 6)]

    conversations = json.loads(CHATGPT.read_text(encoding="utf-8"))
    conversations[0]["create_time"] = float("inf")
    conversations[0]["update_time"] = 9e18 * 1000
    before = datetime.now(UTC).replace(microsecond=0)
    ids, _warnings = importer(context, _file(tmp_path, conversations, "chatgpt.json"))
    with context.session(write=False) as session:
        loop = session.get(Conversation, ids[0])
        assert loop is not None
        assert before <= loop.created_at <= datetime.now(UTC)  # no start time: the time of the import
        assert loop.updated_at == loop.created_at


def test_epoch_refuses_values_outside_1970_to_2100() -> None:
    for value in (10**400, 1e300, float("inf"), float("nan"), -1, 4_200_000_000, "0001-01-01T00:00:00+05:00",
                  "9999-12-31T23:00:00-05:00", "1969-12-31T23:59:59Z"):  # fmt: skip
        assert transfer._epoch(value) is None, value
    assert transfer._epoch(0) == utc(1970, 1, 1)
    assert transfer._epoch("2100-12-31T23:59:59Z") == utc(2100, 12, 31, 23, 59, 59)


def test_counts_out_of_range_and_odd_temperatures_are_left_out(context: AppContext, tmp_path: Path) -> None:
    answer = _message(2, 1, "assistant") | {
        "tokens": {
            "prompt_tokens": 3e9,
            "completion_tokens": 10**20,
            "cached_tokens": -1,
            "cache_write_tokens": 512.0,  # a whole number written as a float: kept
            "reasoning_tokens": 2**31 - 1,
        }
    }
    data = _ours([_message(1, None), answer], current=2)
    data["conversation"] |= {"max_tokens": 3_000_000_000, "temperature": float("nan")}
    tree = _one(context, data, tmp_path)
    assert (tree.conversation.max_tokens, tree.conversation.temperature) == (None, None)
    stored = tree.messages[1]
    assert (stored.prompt_tokens, stored.completion_tokens, stored.cached_tokens) == (None, None, None)
    assert (stored.cache_write_tokens, stored.reasoning_tokens) == (512, 2**31 - 1)

    for temperature, kept in ((float("inf"), None), (float("-inf"), None), (2.5, None), (-0.1, None),
                              (10**400, None), (True, None), (2, 2.0), (0.7, 0.7)):  # fmt: skip
        data["conversation"] |= {"temperature": temperature, "max_tokens": 2**31 - 1}
        tree = _one(context, data, tmp_path)
        assert tree.conversation.temperature == (pytest.approx(kept) if kept is not None else None), temperature
        assert tree.conversation.max_tokens == 2**31 - 1

    chats = json.loads(OPEN_WEBUI.read_text(encoding="utf-8"))
    chats[1]["chat"]["params"] |= {"temperature": float("nan"), "max_tokens": 10**20}
    answer = next(m for m in chats[1]["chat"]["history"]["messages"].values() if m["role"] == "assistant")
    answer["usage"] = {"prompt_tokens": 3e9, "completion_tokens": 12}
    [_csv, greetings], _warnings = importer(context, _file(tmp_path, chats, "open-webui.json"))
    with context.session(write=False) as session:
        tree = trees.load(session, greetings)
    assert (tree.conversation.temperature, tree.conversation.max_tokens) == (None, None)
    assert (tree.path()[1].prompt_tokens, tree.path()[1].completion_tokens) == (None, 12)


def test_nul_characters_are_removed_and_lone_surrogates_replaced(context: AppContext, tmp_path: Path) -> None:
    question = _message(1, None) | {"content": "a\u0000b \ud800 c"}
    answer = _message(2, 1, "assistant") | {
        "content": "\u0000x\udfffy",
        "reasoning": "think\u0000",
        "model": "m\u0000odel\ud83d",
        "provider": "p\u0000",
        "citations": [{"text": "cited \ud800\u0000"}],
    }
    data = _ours([question, answer], current=2)
    data["conversation"] |= {
        "title": "Ti\u0000tle \udc00",
        "system_prompt": "Be\u0000 brief \ud800",
        "folder": "Wo\u0000rk",
        "tags": ["ta\u0000g", "\ud800x"],
    }
    tree = _one(context, data, tmp_path)
    chat = tree.conversation
    assert (chat.title, chat.system_prompt, chat.folder) == ("Title \ufffd", "Be brief \ufffd", "Work")
    first, second = tree.messages
    assert first.content == "ab \ufffd c"
    assert (second.content, second.reasoning, second.model, second.provider) == (
        "x\ufffdy",
        "think",
        "model\ufffd",
        "p",
    )
    assert second.citations is not None
    assert "\x00" not in second.citations
    assert json.loads(second.citations)[0]["text"].startswith("cited \ufffd")
    assert _tags_of(context, chat.id or 0) == sorted(["tag", "\ufffdx"])

    # A title of nothing but NUL characters: one is made from the first prompt, as with no title.
    data["conversation"]["title"] = "\u0000\u0000"
    assert _one(context, data, tmp_path).conversation.title == "ab \ufffd c"

    chats = json.loads(OPEN_WEBUI.read_text(encoding="utf-8"))
    chats[0]["title"] = "CSV\u0000 \ud800"
    next(iter(chats[0]["chat"]["history"]["messages"].values()))["content"] = "How\u0000 \udbff?"
    ids, _warnings = importer(context, _file(tmp_path, chats, "open-webui.json"))
    with context.session(write=False) as session:
        csv = trees.load(session, ids[0])
    assert csv.conversation.title == "CSV \ufffd"
    assert csv.path()[0].content == "How \ufffd?"


def test_imported_tags_are_normalised_and_kept_once_as_the_database_compares_them(
    context: AppContext, tmp_path: Path
) -> None:
    from mai_tui.core.chat import history

    data = _ours([_message(1, None)], current=1)
    data["conversation"]["tags"] = [
        "Work", "#urgent", "work", " WORK ", "café", "Cafe", "CAFÉ", "Straße", "strasse", "Øl", "ol", "ﬁle", "file",
        "", "  ", "#", "none", "None", 5, None, {"name": "Übung"}, "x" * 150,
    ]  # fmt: skip
    tree = _one(context, data, tmp_path)
    conversation_id = tree.conversation.id or 0
    assert _tags_of(context, conversation_id) == sorted(
        ["work", "urgent", "café", "straße", "øl", "ﬁle", "übung", "x" * 100]
    )
    with context.session(write=False) as session:
        user = context.current_user(session)
        for query in ("tag:work", "tag:urgent", "tag:#Urgent", "tag:übung"):
            assert [listed.id for listed in history.find(session, user, query)] == [conversation_id], query

    # Open WebUI's tags, as objects, with its "none"
    chats = json.loads(OPEN_WEBUI.read_text(encoding="utf-8"))
    chats[0]["meta"]["tags"] = [{"name": "Python"}, {"name": "#python"}, {"name": "none"}, {"name": "Résumé"}]
    chats[0]["meta"]["tags"].append({"name": "resume"})
    ids, _warnings = importer(context, _file(tmp_path, chats, "open-webui.json"))
    assert _tags_of(context, ids[0]) == ["python", "résumé"]


def test_a_value_the_database_still_refuses_is_invalid_input_naming_the_file(
    context: AppContext, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The last line of defence: should a value slip past the cleaning, the database's refusal
    becomes InvalidInput naming the file, and the import's savepoint takes everything back."""
    from mai_tui.core.chat.importers import drafts

    monkeypatch.setattr(drafts, "MAX_COUNT", 10**30)  # as if counts were not checked
    data = _ours([_message(1, None)], current=1)
    data["conversation"]["max_tokens"] = 10**25
    file = _file(tmp_path, data)
    _refused(context, file, "the database refused a value in it")
    with context.session() as session:
        user = context.current_user(session)
        session.add(Conversation(user_id=user.id, title="written by the caller"))
        session.flush()
        with pytest.raises(InvalidInput, match="the database refused a value"):
            transfer.import_file(session, file, user)
    with context.session(write=False) as session:
        assert list(session.exec(select(Conversation.title)).all()) == ["written by the caller"]


async def test_the_app_reports_an_unexpected_import_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from mai_tui.tui.app import MaiApp
    from tests.tui.helpers import wait_until

    def broken(*args: Any, **kwargs: Any) -> list[int]:
        raise RuntimeError("the parser tripped")

    monkeypatch.setattr(transfer, "import_file", broken)
    app = MaiApp()
    async with app.run_test(size=(120, 36)) as pilot:
        await pilot.pause()
        worker = app._import(tmp_path / "export.json")
        await wait_until(pilot, lambda: worker.is_finished)
        await wait_until(pilot, lambda: any("Nothing imported" in n.message for n in app._notifications))
        [note] = [n for n in app._notifications if "Nothing imported" in n.message]
        assert note.message == "Nothing imported: the parser tripped"
        assert note.severity == "error"
        assert worker.state.name == "SUCCESS"
