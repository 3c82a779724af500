"""Presets ("workspace models"): a base model with its system prompt, parameters and, if any,
a knowledge collection searched for every prompt. A preset is picked for a new chat; the
conversation then keeps its own copy of the settings (editing the preset later changes only
the chats started after).

Presets belong to the workspace: everyone may use them; changing one is for its author and
admins (as with collections).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, update
from sqlmodel import Session, col, select

from mai_tui.config import Settings
from mai_tui.core.chat.parameters import Parameters, check_max_tokens
from mai_tui.core.context import AppContext
from mai_tui.core.errors import InvalidInput, NotFound, PermissionDenied
from mai_tui.core.providers.registry import split_model
from mai_tui.core.store.models import Conversation, KnowledgeCollection, Preset, Role, User
from mai_tui.core.store.types import utcnow
from mai_tui.i18n import _

NAME_LENGTH = 100


@dataclass(frozen=True)
class PresetSpec:
    """What a preset holds, as given by the user (checked by `add_preset` and `update_preset`)."""

    name: str
    model: str  # provider/model
    system_prompt: str | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    collection: str | None = None  # a knowledge collection's name

    @property
    def parameters(self) -> Parameters:
        return Parameters(self.system_prompt, self.temperature, self.max_tokens)


def _find(session: Session, name: str) -> Preset | None:
    """The preset named `name`, without regard to case (names are unique that way on every database)."""
    return session.exec(select(Preset).where(func.lower(Preset.name) == name.strip().lower())).first()


def _checked(session: Session, settings: Settings, spec: PresetSpec, *, keep: int | None = None) -> PresetSpec:
    """`spec` cleaned up (names trimmed, empty text as None) or an InvalidInput naming the problem.

    `keep`: the id of the preset being changed (its own name is not a clash).
    """
    from mai_tui.core.knowledge.collections import find as find_collection

    name = spec.name.strip()
    if not 1 <= len(name) <= NAME_LENGTH:
        raise InvalidInput(_("a preset's name must be 1 to 100 characters long"))
    clash = _find(session, name)
    if clash is not None and clash.id != keep:
        raise InvalidInput(_("a preset named '{name}' already exists").format(name=clash.name))
    model = spec.model.strip()
    split_model(model, settings)  # refuses anything but PROVIDER/MODEL with a known provider
    if spec.temperature is not None and not 0 <= spec.temperature <= 2:
        raise InvalidInput(_("temperature must be a number from 0 to 2"))
    if spec.max_tokens is not None:
        check_max_tokens(spec.max_tokens)
    collection = (spec.collection or "").strip() or None
    if collection is not None:
        found = find_collection(session, collection)
        if found is None:
            raise NotFound(_("no collection named '{name}': see  mai kb list").format(name=collection))
        collection = found.name
    system = (spec.system_prompt or "").strip() or None
    return PresetSpec(name, model, system, spec.temperature, spec.max_tokens, collection)


def _require_can_change(actor: User, preset: Preset) -> None:
    if actor.role != Role.ADMIN and preset.user_id != actor.id:
        raise PermissionDenied(_("only its author and admins may change the preset '{name}'").format(name=preset.name))


def _detached(session: Session, preset: Preset) -> Preset:
    session.flush()
    session.refresh(preset)
    session.expunge(preset)
    return preset


def list_presets(context: AppContext) -> list[Preset]:
    """Every preset, by name."""
    with context.session(write=False) as session:
        presets = list(session.exec(select(Preset).order_by(func.lower(Preset.name), col(Preset.id))).all())
        for preset in presets:
            session.expunge(preset)
    return presets


def get_preset(context: AppContext, name_or_id: str | int) -> Preset:
    """The preset with this id, or named so (any case); NotFound otherwise."""
    with context.session(write=False) as session:
        preset = _get(session, name_or_id)
        session.expunge(preset)
    return preset


def _get(session: Session, name_or_id: str | int) -> Preset:
    preset = session.get(Preset, name_or_id) if isinstance(name_or_id, int) else _find(session, name_or_id)
    if preset is None:
        raise NotFound(_("no preset named '{name}': see  mai presets list").format(name=name_or_id))
    return preset


def add_preset(context: AppContext, spec: PresetSpec) -> Preset:
    """A new preset, owned by the current user (not a pending one)."""
    with context.session() as session:
        actor = context.current_user(session)
        if actor.role == Role.PENDING:
            raise PermissionDenied(_("your account is pending: an admin must give you a role first"))
        clean = _checked(session, context.settings, spec)
        preset = Preset(
            name=clean.name,
            model=clean.model,
            system_prompt=clean.system_prompt,
            temperature=clean.temperature,
            max_tokens=clean.max_tokens,
            collection=clean.collection,
            user_id=actor.id,
        )
        session.add(preset)
        return _detached(session, preset)


def update_preset(context: AppContext, name_or_id: str | int, spec: PresetSpec) -> Preset:
    """Replace everything the preset holds; conversations started from it keep their own copy."""
    with context.session() as session:
        actor = context.current_user(session)
        preset = _get(session, name_or_id)
        _require_can_change(actor, preset)
        clean = _checked(session, context.settings, spec, keep=preset.id)
        preset.name, preset.model, preset.system_prompt = clean.name, clean.model, clean.system_prompt
        preset.temperature, preset.max_tokens, preset.collection = clean.temperature, clean.max_tokens, clean.collection
        preset.updated_at = utcnow()
        session.add(preset)
        return _detached(session, preset)


def remove_preset(context: AppContext, name_or_id: str | int) -> int:
    """Delete the preset; its conversations stay (with their settings) and forget it. Returns
    how many conversations had been started from it."""
    with context.session() as session:
        actor = context.current_user(session)
        preset = _get(session, name_or_id)
        _require_can_change(actor, preset)
        cleared = session.exec(
            update(Conversation).where(col(Conversation.preset_id) == preset.id).values(preset_id=None)
        )
        session.delete(preset)
        return int(cleared.rowcount or 0)


@dataclass(frozen=True)
class Applied:
    """A new conversation's settings: what was given explicitly, else what its preset says."""

    model: str | None
    system_prompt: str | None
    temperature: float | None
    max_tokens: int | None
    collection: str | None
    preset_id: int | None


def apply_preset(
    context: AppContext,
    preset_id: int | None,
    *,
    model: str | None = None,
    system: str | None = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
) -> Applied:
    """The settings of a conversation started from preset `preset_id` (None: no preset).

    What is given explicitly (e.g. a model chosen after the preset) wins over the preset.
    """
    if preset_id is None:
        return Applied(model, system, temperature, max_tokens, None, None)
    preset = get_preset(context, preset_id)
    return Applied(
        model or preset.model,
        system if system is not None else preset.system_prompt,
        temperature if temperature is not None else preset.temperature,
        max_tokens if max_tokens is not None else preset.max_tokens,
        preset.collection,
        preset.id,
    )


def collection_names(context: AppContext) -> list[str]:
    """The knowledge collections a preset may search, by name."""
    with context.session(write=False) as session:
        query = select(KnowledgeCollection.name).order_by(func.lower(KnowledgeCollection.name))
        return list(session.exec(query).all())


def standing_collection(
    context: AppContext, *, conversation_id: int | None = None, preset_id: int | None = None
) -> str | None:
    """The collection searched for a prompt that names no `#reference`: the conversation's own,
    or, for a conversation not started yet, its preset's. None when there is none."""
    with context.session(write=False) as session:
        if conversation_id is not None:
            conversation = session.get(Conversation, conversation_id)
            return conversation.collection if conversation is not None else None
        if preset_id is not None:
            preset = session.get(Preset, preset_id)
            return preset.collection if preset is not None else None
    return None
