"""Collections and their documents in the relational database: create, list, find, remove.

Every user of the workspace may search every collection (as DESIGN says, even a pending user
may search documents); changing one is for its owner and admins.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func
from sqlmodel import Session, col, select

from mai_tui.core.errors import InvalidInput, NotFound, PermissionDenied
from mai_tui.core.store.models import (
    DocumentStatus,
    KnowledgeCollection,
    KnowledgeDocument,
    Role,
    User,
)
from mai_tui.core.store.types import utcnow
from mai_tui.i18n import _

# Names are used after `#` in the prompt, so no spaces and no `#`.
_NAME = re.compile(r"^[\w][\w.\-]{0,99}$")


def check_name(name: str) -> str:
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidInput(
            _(
                "'{name}' is not a usable collection name: use letters, digits, '.', '-' and '_' "
                "(no spaces), at most 100 characters"
            ).format(name=name)
        )
    return name


def path_hash(path: Path) -> str:
    return hashlib.sha256(str(path).encode("utf-8", "surrogateescape")).hexdigest()


def find(session: Session, name: str) -> KnowledgeCollection | None:
    """The collection named `name`, without regard to case (`#Papers` and `#papers` are one)."""
    return session.exec(select(KnowledgeCollection).where(func.lower(KnowledgeCollection.name) == name.lower())).first()


def get(session: Session, name: str) -> KnowledgeCollection:
    collection = find(session, name)
    if collection is None:
        raise NotFound(_("no collection named '{name}': see  mai kb list").format(name=name))
    return collection


def require_can_change(actor: User, collection: KnowledgeCollection) -> None:
    if actor.role != Role.ADMIN and collection.owner_id != actor.id:
        raise PermissionDenied(
            _("only its owner and admins may change the collection '{name}'").format(name=collection.name)
        )


def create(
    session: Session,
    actor: User,
    name: str,
    *,
    embedder: str,
    chunk_size: int,
    chunk_overlap: int,
    description: str | None = None,
) -> KnowledgeCollection:
    if actor.role == Role.PENDING:
        raise PermissionDenied(_("your account is pending: an admin must give you a role first"))
    name = check_name(name)
    if find(session, name) is not None:
        raise InvalidInput(_("a collection named '{name}' already exists").format(name=name))
    collection = KnowledgeCollection(
        name=name,
        description=description,
        embedder=embedder,
        chunk_size=chunk_size,
        chunk_overlap=chunk_overlap,
        owner_id=actor.id,
    )
    session.add(collection)
    session.flush()
    return collection


@dataclass(frozen=True)
class CollectionInfo:
    collection: KnowledgeCollection
    documents: int
    indexed: int
    failed: int
    chunks: int
    pages: int


def overview(session: Session) -> list[CollectionInfo]:
    """Every collection with its counts, by name."""
    counts = {
        row[0]: row[1:]
        for row in session.exec(
            select(
                KnowledgeDocument.collection_id,
                func.count(),
                func.sum(func.coalesce(KnowledgeDocument.chunks, 0)),
                func.sum(func.coalesce(KnowledgeDocument.pages, 0)),
            ).group_by(col(KnowledgeDocument.collection_id))
        ).all()
    }
    status_counts: dict[tuple[int, str], int] = {
        (row[0], row[1]): row[2]
        for row in session.exec(
            select(KnowledgeDocument.collection_id, KnowledgeDocument.status, func.count()).group_by(
                col(KnowledgeDocument.collection_id), col(KnowledgeDocument.status)
            )
        ).all()
    }
    infos = []
    for collection in session.exec(select(KnowledgeCollection).order_by(col(KnowledgeCollection.name))).all():
        cid = collection.id or 0
        total, chunks, pages = counts.get(cid, (0, 0, 0))
        infos.append(
            CollectionInfo(
                collection,
                int(total or 0),
                status_counts.get((cid, DocumentStatus.INDEXED.value), 0),
                status_counts.get((cid, DocumentStatus.FAILED.value), 0),
                int(chunks or 0),
                int(pages or 0),
            )
        )
    return infos


def documents(session: Session, collection: KnowledgeCollection) -> list[KnowledgeDocument]:
    return list(
        session.exec(
            select(KnowledgeDocument)
            .where(KnowledgeDocument.collection_id == collection.id)
            .order_by(col(KnowledgeDocument.name), col(KnowledgeDocument.id))
        ).all()
    )


def find_documents(session: Session, collection: KnowledgeCollection, what: str) -> list[KnowledgeDocument]:
    """The collection's documents named `what` (a file name) or added from the path `what`."""
    every = documents(session, collection)
    matches = [d for d in every if d.path == what]  # a stored path, exactly (the TUI passes these)
    if not matches:
        path = str(Path(what).expanduser().resolve()) if ("/" in what or what.startswith("~")) else None
        matches = [d for d in every if d.name == what or (path is not None and d.path == path)]
    if not matches:
        raise NotFound(
            _("the collection '{name}' has no document '{file}': see  mai kb list {name}").format(
                name=collection.name, file=what
            )
        )
    return matches


def touch(collection: KnowledgeCollection) -> None:
    collection.updated_at = utcnow()
