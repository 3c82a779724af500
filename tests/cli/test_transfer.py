"""`mai export` and `mai import` through the real entry point: output, files, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import func
from sqlmodel import select

from mai_tui.core.context import load_context
from mai_tui.core.store.models import Conversation
from tests.chat.test_transfer import CHATGPT, OPEN_WEBUI, seed_branched
from tests.cli.conftest import Mai


def conversations() -> int:
    with load_context().session(write=False) as session:
        return int(session.exec(select(func.count()).select_from(Conversation)).one())


def test_export_markdown_to_stdout(mai: Mai) -> None:
    conversation_id = seed_branched(load_context())
    result = mai("export", str(conversation_id), "--format", "md")
    assert result.code == 0, result.err
    assert result.out.startswith("# Häufige Fragen 🧪\n")
    assert "```python\n>>> 2 + 2\n4\n```" in result.out
    assert result.err == ""


def test_export_json_to_a_file_then_import_it_back(mai: Mai, tmp_path: Path) -> None:
    conversation_id = seed_branched(load_context())
    folder = tmp_path / "exports"
    folder.mkdir()
    target = folder / "chat.json"
    target.write_text("an older export", encoding="utf-8")

    exported = mai("export", str(conversation_id), "--format", "json", "-o", str(target))

    assert exported.code == 0, exported.err
    assert str(target) in exported.out
    data = json.loads(target.read_text(encoding="utf-8"))  # replaced whole, not appended to
    assert (data["format"], len(data["messages"])) == ("mai-chat", 7)
    assert [p.name for p in folder.iterdir()] == ["chat.json"]

    imported = mai("import", str(target), "--json")
    assert imported.code == 0, imported.err
    [entry] = imported.json()
    assert entry["title"] == "Häufige Fragen 🧪"
    assert entry["messages"] == 7
    assert entry["id"] != conversation_id
    assert conversations() == 2


def test_import_says_what_it_imported_and_warns_on_stderr(mai: Mai) -> None:
    result = mai("import", str(CHATGPT))
    assert result.code == 0, result.err
    lines = result.out.splitlines()
    assert lines[0].endswith("Off-by-one in a Python loop  (5 messages)")
    assert lines[1].endswith("Café-Bestellung auf Französisch ☕  (2 messages)")
    assert lines[2] == f"Imported 2 conversations from {CHATGPT}."
    assert "1 part that is not text" in result.err
    listed = mai("import", str(OPEN_WEBUI), "--json").json()
    assert [(c["title"], c["messages"]) for c in listed] == [
        ("Python: read a CSV file", 7),
        ("Grüße auf Japanisch 🇯🇵", 4),
    ]


def test_a_bad_file_exits_1_and_imports_nothing(mai: Mai, tmp_path: Path) -> None:
    broken = tmp_path / "conversations.json"
    broken.write_bytes(OPEN_WEBUI.read_bytes()[:3000])
    result = mai("import", str(broken))
    assert result.code == 1
    assert result.err.startswith(f"mai: {broken} ends in the middle of the JSON")
    assert result.out == ""
    assert mai("import", str(tmp_path / "missing.json")).code == 1
    assert conversations() == 0


def test_export_errors_exit_1_and_wrong_usage_exits_2(mai: Mai, tmp_path: Path) -> None:
    conversation_id = seed_branched(load_context())
    missing = mai("export", "999")
    assert (missing.code, missing.err) == (1, "mai: no conversation 999\n")
    no_folder = mai("export", str(conversation_id), "-o", str(tmp_path / "nope" / "chat.md"))
    assert no_folder.code == 1
    assert "there is no folder" in no_folder.err
    assert mai("export", str(conversation_id), "--format", "pdf").code == 2


def test_only_the_owner_or_an_admin_may_export(mai: Mai) -> None:
    conversation_id = seed_branched(load_context())  # owned by "tester", the first user: an admin
    other = mai("export", str(conversation_id), user="mallory")
    assert other.code == 1
    assert "belongs to another user" in other.err
    assert other.out == ""
    assert mai("export", str(conversation_id), user="tester").code == 0
