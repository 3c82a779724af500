"""Presets ("workspace models"): kept, checked, removed, and applied to a new conversation."""

from __future__ import annotations

import pytest
from sqlmodel import select

from mai_tui.core.chat import presets
from mai_tui.core.chat.presets import PresetSpec
from mai_tui.core.chat.turns import prepare_turn
from mai_tui.core.context import AppContext, load_context
from mai_tui.core.errors import InvalidInput, NotFound, PermissionDenied
from mai_tui.core.knowledge import rag
from mai_tui.core.store.models import Conversation, KnowledgeCollection, Role, User

MODEL = "openrouter/anthropic/claude-3.5-sonnet"


@pytest.fixture
def context(database_url: str, monkeypatch: pytest.MonkeyPatch) -> AppContext:
    monkeypatch.setenv("OPENROUTER_API_KEY", "sk-or-v1-testkey0123456789")
    monkeypatch.setenv("MAI_DEFAULT_MODEL", "openrouter/openai/gpt-4o-mini")
    return load_context()


def collection(context: AppContext, name: str) -> None:
    with context.session() as session:
        session.add(KnowledgeCollection(name=name, embedder="minilm", chunk_size=1000, chunk_overlap=100))


def pirate(**changes: object) -> PresetSpec:
    fields: dict[str, object] = {
        "name": "Pirate",
        "model": MODEL,
        "system_prompt": "Answer like a pirate.",
        "temperature": 0.3,
        "max_tokens": 400,
        **changes,
    }
    return PresetSpec(**fields)  # type: ignore[arg-type]


def test_a_preset_is_added_listed_changed_and_found_by_any_case(context: AppContext) -> None:
    collection(context, "Handbooks")
    added = presets.add_preset(context, pirate(name="  Pirate  ", system_prompt="  ", collection="handbooks"))
    assert (added.name, added.model, added.system_prompt, added.collection) == ("Pirate", MODEL, None, "Handbooks")
    presets.add_preset(context, pirate(name="analyst", temperature=None, max_tokens=None))
    assert [p.name for p in presets.list_presets(context)] == ["analyst", "Pirate"]
    assert presets.get_preset(context, "PIRATE").id == added.id

    changed = presets.update_preset(context, "pirate", pirate(name="Pirate", temperature=1.5, collection=None))
    assert (changed.temperature, changed.collection, changed.system_prompt) == (1.5, None, "Answer like a pirate.")
    assert changed.updated_at >= added.updated_at
    renamed = presets.update_preset(context, added.id or 0, pirate(name="Corsair"))
    assert presets.get_preset(context, "corsair").id == renamed.id


@pytest.mark.parametrize(
    ("changes", "problem"),
    [
        ({"name": ""}, "1 to 100 characters"),
        ({"name": "x" * 101}, "1 to 100 characters"),
        ({"name": "PIRATE"}, "already exists"),
        ({"model": "gpt-4o"}, "PROVIDER/MODEL"),
        ({"model": "nowhere/model"}, "PROVIDER/MODEL"),
        ({"temperature": 2.5}, "temperature must be a number from 0 to 2"),
        ({"temperature": -0.1}, "temperature must be a number from 0 to 2"),
        ({"max_tokens": 0}, "max tokens must be a whole number from 1 to"),
        ({"max_tokens": 5_000_000_000}, "max tokens must be a whole number from 1 to"),
        ({"collection": "missing"}, "no collection named 'missing'"),
    ],
)
def test_bad_presets_are_refused_with_the_reason(context: AppContext, changes: dict[str, object], problem: str) -> None:
    presets.add_preset(context, pirate())
    with pytest.raises((InvalidInput, NotFound), match=problem):
        presets.add_preset(context, pirate(**{"name": "Other", **changes}))
    assert len(presets.list_presets(context)) == 1


def test_removing_a_preset_keeps_its_conversations_and_forgets_it(context: AppContext) -> None:
    preset = presets.add_preset(context, pirate())
    turn = prepare_turn(context, "Ahoy?", preset_id=preset.id)
    assert presets.remove_preset(context, "pirate") == 1
    with context.session(write=False) as session:
        conversation = session.get(Conversation, turn.conversation_id)
        assert conversation is not None
        assert (conversation.preset_id, conversation.system_prompt) == (None, "Answer like a pirate.")
    with pytest.raises(NotFound, match="no preset named 'pirate'"):
        presets.remove_preset(context, "pirate")


def test_only_its_author_and_admins_change_a_preset(context: AppContext, monkeypatch: pytest.MonkeyPatch) -> None:
    preset = presets.add_preset(context, pirate())  # by the first user: an admin
    with context.session() as session:
        session.add(User(name="bob", role=Role.USER.value))
    monkeypatch.setenv("MAI_USER", "bob")
    with pytest.raises(PermissionDenied, match="only its author and admins"):
        presets.update_preset(context, preset.id or 0, pirate(temperature=1.0))
    with pytest.raises(PermissionDenied):
        presets.remove_preset(context, "Pirate")
    own = presets.add_preset(context, pirate(name="Bob's"))
    presets.remove_preset(context, own.id or 0)
    monkeypatch.setenv("MAI_USER", "newcomer")  # unknown: created pending
    with pytest.raises(PermissionDenied, match="pending"):
        presets.add_preset(context, pirate(name="Mine"))


def test_a_new_conversation_takes_the_presets_settings(context: AppContext) -> None:
    collection(context, "handbooks")
    preset = presets.add_preset(context, pirate(collection="handbooks"))
    turn = prepare_turn(context, "Where is the treasure?", preset_id=preset.id)
    assert turn.model == MODEL
    request = turn.request
    assert (request.model, request.system, request.temperature, request.max_tokens) == (
        "anthropic/claude-3.5-sonnet",
        "Answer like a pirate.",
        0.3,
        400,
    )
    with context.session(write=False) as session:
        [conversation] = session.exec(select(Conversation)).all()
    assert (conversation.preset_id, conversation.collection, conversation.model) == (preset.id, "handbooks", MODEL)

    # The next turn of that conversation keeps its own copy, whatever happens to the preset.
    presets.update_preset(context, preset.id or 0, pirate(system_prompt="Be brief."))
    again = prepare_turn(context, "And then?", conversation_id=turn.conversation_id, preset_id=preset.id)
    assert again.request.system == "Answer like a pirate."


def test_what_is_chosen_explicitly_wins_over_the_preset(context: AppContext) -> None:
    preset = presets.add_preset(context, pirate())
    turn = prepare_turn(context, "hi", preset_id=preset.id, model="openrouter/openai/gpt-4o", temperature=1.0)
    assert (turn.model, turn.request.temperature, turn.request.system) == (
        "openrouter/openai/gpt-4o",
        1.0,
        "Answer like a pirate.",
    )
    plain = prepare_turn(context, "hi")  # no preset: the default model, nothing else
    assert (plain.model, plain.request.system, plain.request.temperature) == (
        "openrouter/openai/gpt-4o-mini",
        None,
        None,
    )


def test_a_preset_removed_before_the_first_message_is_reported(context: AppContext) -> None:
    preset = presets.add_preset(context, pirate())
    presets.remove_preset(context, preset.id or 0)
    with pytest.raises(NotFound):
        prepare_turn(context, "hi", preset_id=preset.id)


def test_prompts_without_a_reference_search_the_conversations_collection(
    context: AppContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    collection(context, "handbooks")
    collection(context, "papers")
    searched: list[tuple[str, list[str]]] = []

    def fake_retrieve(
        _context: AppContext, question: str, references: rag.References, *, k: int | None = None
    ) -> rag.Retrieved:
        searched.append((question, references.collections))
        return rag.Retrieved(references, [], question)

    monkeypatch.setattr(rag, "retrieve", fake_retrieve)
    preset = presets.add_preset(context, pirate(collection="handbooks"))
    standing = presets.standing_collection(context, preset_id=preset.id)
    assert standing == "handbooks"

    assert rag.retrieve_for(context, "  What is the leave policy? ", collection=standing) is not None
    assert rag.retrieve_for(context, "#papers What do they say?", collection=standing) is not None
    assert rag.retrieve_for(context, "no documents here") is None
    assert rag.retrieve_for(context, "gone", collection="deleted-since") is None
    assert searched == [("What is the leave policy?", ["handbooks"]), ("What do they say?", ["papers"])]

    turn = prepare_turn(context, "hi", preset_id=preset.id)
    assert presets.standing_collection(context, conversation_id=turn.conversation_id) == "handbooks"
    assert presets.standing_collection(context) is None
    plain = prepare_turn(context, "hi")
    assert presets.standing_collection(context, conversation_id=plain.conversation_id) is None
