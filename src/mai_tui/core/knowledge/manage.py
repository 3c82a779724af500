"""What the shells call: create, list, remove and re-index collections (adding files is `ingest`)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mai_tui.core.context import AppContext
from mai_tui.core.errors import InvalidInput
from mai_tui.core.knowledge import collections
from mai_tui.core.knowledge.embedders import get_embedder
from mai_tui.core.knowledge.ingest import AddSummary, Ingest, Progress, chunk_store, reindex_sources
from mai_tui.core.store.models import DocumentStatus, KnowledgeCollection, KnowledgeDocument
from mai_tui.i18n import _


def create_collection(
    context: AppContext,
    name: str,
    *,
    embedder: str | None = None,
    description: str | None = None,
) -> KnowledgeCollection:
    """A new, empty collection; its embedder is checked to exist before anything is saved."""
    settings = context.settings.knowledge
    chosen = embedder or settings.embedder
    get_embedder(chosen, settings=context.settings, secrets=context.secrets)  # refuses an unknown name
    with context.session() as session:
        actor = context.current_user(session)
        collection = collections.create(
            session,
            actor,
            name,
            embedder=chosen,
            chunk_size=settings.chunk_size,
            chunk_overlap=settings.chunk_overlap,
            description=description,
        )
        session.expunge(collection)
    # A database may hand out the id of a removed collection again: its table must not come back.
    store = chunk_store(context)
    with store.writing(collection.store_name):
        store.drop(collection.store_name)
    return collection


@dataclass(frozen=True)
class Listing:
    collection: KnowledgeCollection
    documents: list[KnowledgeDocument]


def overview(context: AppContext) -> list[collections.CollectionInfo]:
    with context.session(write=False) as session:
        infos = collections.overview(session)
        for info in infos:
            session.expunge(info.collection)
    return infos


def listing(context: AppContext, name: str) -> Listing:
    with context.session(write=False) as session:
        collection = collections.get(session, name)
        documents = collections.documents(session, collection)
        session.expunge_all()
    return Listing(collection, documents)


def remove_collection(context: AppContext, name: str) -> Listing:
    """Delete the collection, its documents' records and its chunks; returns what was removed."""
    with context.session() as session:
        actor = context.current_user(session)
        collection = collections.get(session, name)
        collections.require_can_change(actor, collection)
        documents = collections.documents(session, collection)
        store_name = collection.store_name
        for document in documents:
            session.delete(document)
        session.flush()  # before the collection: its delete would cascade to them first
        session.delete(collection)
        session.flush()
        session.expunge_all()
    store = chunk_store(context)
    with store.writing(store_name):  # after a running add's current document, if one is going
        store.drop(store_name)
    return Listing(collection, documents)


def remove_documents(context: AppContext, name: str, file: str) -> list[KnowledgeDocument]:
    """Delete the documents named `file` (a file name or the path it was added from)."""
    with context.session() as session:
        actor = context.current_user(session)
        collection = collections.get(session, name)
        collections.require_can_change(actor, collection)
        documents = collections.find_documents(session, collection, file)
        for document in documents:
            session.delete(document)
        collections.touch(collection)
        session.add(collection)
        session.flush()
        store_name = collection.store_name
        session.expunge_all()
    store = chunk_store(context)
    with store.writing(store_name):
        for document in documents:
            store.sweep(store_name, document.id or 0, None)
    return documents


def reindex(
    context: AppContext,
    name: str,
    *,
    embedder: str | None = None,
    on_progress: Callable[[Progress], None] | None = None,
    password: str | None = None,
    cancel: threading.Event | None = None,
) -> AddSummary:
    """Read every document of the collection again; with `embedder`, switch the collection to it.

    Changing the embedder drops every chunk first: vectors of two models cannot be mixed.
    """
    with context.session() as session:
        actor = context.current_user(session)
        collection = collections.get(session, name)
        collections.require_can_change(actor, collection)
        changed = embedder is not None and embedder != collection.embedder
        if changed:
            assert embedder is not None
            get_embedder(embedder, settings=context.settings, secrets=context.secrets)
            collection.embedder = embedder
            collections.touch(collection)
            session.add(collection)
            # Their chunks go with the old model: until re-read, they are unfinished, not indexed.
            for document in collections.documents(session, collection):
                document.indexed_version = None
                document.chunks = 0
                if document.status == DocumentStatus.INDEXED.value:
                    document.status = DocumentStatus.INDEXING.value
                session.add(document)
        session.flush()
        session.expunge(collection)
    if changed:
        store = chunk_store(context)
        with store.writing(collection.store_name):
            store.drop(collection.store_name)
    run = Ingest(context, name, password=password, on_progress=on_progress, cancel=cancel, force=True)
    return run.add_sources(reindex_sources(context, collection))


def embedder_mismatch(context: AppContext, collection: KnowledgeCollection) -> str | None:
    """A sentence to show when the configured embedder differs from the collection's."""
    configured = context.settings.knowledge.embedder
    if configured == collection.embedder:
        return None
    return _(
        "the collection '{name}' was indexed with '{used}', the setting says '{configured}': "
        "it keeps '{used}' until you re-index it with  mai kb reindex {name} --embedder {configured}"
    ).format(name=collection.name, used=collection.embedder, configured=configured)


def check_paths(paths: list[Path]) -> None:
    if not paths:
        raise InvalidInput(_("give at least one file or folder to add"))
