"""`mai prompts list|add|remove`: the prompt library from the command line."""

from __future__ import annotations

from pathlib import Path

from tests.cli.conftest import Mai


def test_add_from_an_argument_a_file_and_stdin_then_list(mai: Mai, tmp_path: Path) -> None:
    added = mai("prompts", "add", "fix", "Fix the grammar of:", "--title", "Fix grammar")
    assert added.code == 0, added.err
    assert "Saved /fix" in added.out

    template = tmp_path / "email.md"
    template.write_text("Write to {{to}} about {{topic|the plan}}.\nKeep it {short}.\n", encoding="utf-8")
    from_file = mai("prompts", "add", "/email", "--file", str(template))
    assert from_file.code == 0, from_file.err
    assert "It asks for: to, topic." in from_file.out

    assert mai("prompts", "add", "translate", stdin="Translate into {{language}}:\n").code == 0

    listed = mai("prompts", "list", "--json").json()
    assert [(p["command"], p["title"], p["variables"]) for p in listed] == [
        ("email", "Write to {{to}} about {{topic|the plan}}.", ["to", "topic"]),
        ("fix", "Fix grammar", []),
        ("translate", "Translate into {{language}}:", ["language"]),
    ]
    assert listed[0]["content"] == template.read_text(encoding="utf-8")
    assert listed[0]["author"] == "tester"
    assert listed[0]["created_at"].endswith("+00:00")

    table = mai("prompts", "list")
    assert table.code == 0
    assert "/email" in table.out
    assert "to, topic" in table.out


def test_remove_and_the_errors_a_user_can_make(mai: Mai, tmp_path: Path) -> None:
    assert "No saved prompts yet" in mai("prompts", "list").out
    assert mai("prompts", "list", "--json").json() == []
    assert mai("prompts", "add", "fix", "Fix it.").code == 0

    taken = mai("prompts", "add", "fix", "Again.")
    assert (taken.code, taken.err.strip()) == (1, "mai: the command /fix is taken already")
    bad = mai("prompts", "add", "Fix It", "text")
    assert bad.code == 1
    assert "lowercase letters, digits" in bad.err
    assert "needs some text" in mai("prompts", "add", "empty").err  # nothing on stdin
    assert "not both" in mai("prompts", "add", "two", "text", "--file", str(tmp_path / "x")).err
    missing = mai("prompts", "add", "nofile", "--file", str(tmp_path / "missing.md"))
    assert missing.code == 1
    assert "cannot read" in missing.err

    removed = mai("prompts", "remove", "/fix")
    assert (removed.code, removed.out.strip()) == (0, "Removed /fix.")
    gone = mai("prompts", "remove", "fix")
    assert gone.code == 1
    assert "no saved prompt /fix" in gone.err


def test_only_the_author_or_an_admin_may_remove(mai: Mai) -> None:
    assert mai("db", "init").code == 0
    assert mai("users", "add", "alice").code == 0
    assert mai("users", "add", "bob").code == 0
    assert mai("prompts", "add", "mine", "Alice's.", user="alice").code == 0
    refused = mai("prompts", "remove", "mine", user="bob")
    assert refused.code == 1
    assert "only its author and admins" in refused.err
    assert mai("prompts", "remove", "mine", user="tester").code == 0
