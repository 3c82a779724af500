"""Adding files to a collection: read, chunk, embed, store; one document at a time, atomically.

A document's chunks land in one write, tagged with the file's content hash; older versions
are swept afterwards, and searches only trust rows whose version the database names. So a
failure (or a kill) at any step leaves either the old version or the new one, never a mix.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from stat import S_ISREG

import numpy as np
from sqlmodel import select

from mai_tui.core.context import AppContext
from mai_tui.core.errors import InvalidInput, MaiError
from mai_tui.core.knowledge import collections
from mai_tui.core.knowledge.chunking import chunk_document
from mai_tui.core.knowledge.documents import LoadedDocument, LoadError, Problem
from mai_tui.core.knowledge.embedders import Embedder, get_embedder
from mai_tui.core.knowledge.loaders import load
from mai_tui.core.knowledge.store import ChunkStore, LanceStore, StoredChunk
from mai_tui.core.store.models import DocumentStatus, KnowledgeCollection, KnowledgeDocument
from mai_tui.core.store.types import utcnow
from mai_tui.i18n import _

log = logging.getLogger(__name__)
EMBED_BATCH = 32
_stores: dict[Path, LanceStore] = {}
_stores_lock = threading.Lock()


def chunk_store(context: AppContext) -> ChunkStore:
    """The chunk store of this data folder (one per process)."""
    folder = context.paths.lancedb_dir
    with _stores_lock:
        if folder not in _stores:
            _stores[folder] = LanceStore(folder)
        return _stores[folder]


class Outcome(StrEnum):
    INDEXED = "indexed"
    UNCHANGED = "unchanged"  # same content as already indexed: nothing to do
    SKIPPED = "skipped"  # found while walking a folder, but not a document we read
    FAILED = "failed"
    CANCELLED = "cancelled"


@dataclass
class FileResult:
    path: Path
    outcome: Outcome
    problem: Problem | None = None
    message: str | None = None
    pages: int = 0
    chunks: int = 0
    seconds: float = 0.0
    embed_seconds: float = 0.0
    low_quality: bool = False


@dataclass
class Progress:
    """Where an add stands; sent before each file, after each embedded batch, and at each file's end."""

    file: Path
    file_index: int  # 0-based
    files: int
    pages: int  # pages of this file (0 until read)
    chunks_done: int
    chunks: int  # chunks of this file (0 until chunked)
    pages_done_total: int  # pages of finished files
    started: float  # time.monotonic() when the add began
    result: FileResult | None = None  # set when this file is finished

    @property
    def pages_per_second(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.pages_done_total / elapsed if elapsed > 0 else 0.0


@dataclass
class AddSummary:
    results: list[FileResult] = field(default_factory=list)
    seconds: float = 0.0

    def count(self, outcome: Outcome) -> int:
        return sum(1 for r in self.results if r.outcome is outcome)

    @property
    def failed(self) -> list[FileResult]:
        return [r for r in self.results if r.outcome is Outcome.FAILED]

    @property
    def pages(self) -> int:
        return sum(r.pages for r in self.results if r.outcome is Outcome.INDEXED)

    @property
    def chunks(self) -> int:
        return sum(r.chunks for r in self.results if r.outcome is Outcome.INDEXED)


@dataclass(frozen=True)
class _Source:
    path: Path
    from_folder: bool  # found by walking a folder (an unreadable type is skipped, not failed)


def expand(paths: Sequence[Path], *, recursive: bool) -> list[_Source]:
    """The files to add: named files as they are, folders' files (hidden ones left out)."""
    sources: list[_Source] = []
    for given in paths:
        path = given.expanduser().resolve()
        if path.is_dir():
            if not recursive:
                raise InvalidInput(_("{path} is a folder: add -r to add the files in it").format(path=given))
            for found in sorted(path.rglob("*")):
                relative = found.relative_to(path)
                if found.is_file() and not any(part.startswith(".") for part in relative.parts):
                    sources.append(_Source(found.resolve(), True))  # a link and its target: one file
        else:
            sources.append(_Source(path, False))
    unique: dict[Path, _Source] = {}
    for source in sources:
        unique.setdefault(source.path, source)
    return list(unique.values())


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Cancelled(MaiError):
    """The add was called off; the file being indexed was left as it was."""


class Removed(MaiError):
    """The collection (or the document) was removed, or switched embedder, during the add."""


class Ingest:
    """One add run into one collection (used by `mai kb add`, the knowledge screen, re-index)."""

    def __init__(
        self,
        context: AppContext,
        collection: str,
        *,
        password: str | None = None,
        on_progress: Callable[[Progress], None] | None = None,
        cancel: threading.Event | None = None,
        force: bool = False,
    ) -> None:
        self.context = context
        self.password = password
        self.on_progress = on_progress
        self.cancel = cancel or threading.Event()
        self.force = force  # re-index even when the content is unchanged
        self.store = chunk_store(context)
        with context.session() as session:
            actor = context.current_user(session)
            found = collections.get(session, collection)
            collections.require_can_change(actor, found)
            session.expunge(found)
        self.collection: KnowledgeCollection = found
        self.max_bytes = context.settings.knowledge.max_file_mb * 1024 * 1024
        self._embedder: Embedder | None = None

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = get_embedder(
                self.collection.embedder, settings=self.context.settings, secrets=self.context.secrets
            )
        return self._embedder

    def run(self, paths: Sequence[Path], *, recursive: bool = False) -> AddSummary:
        return self.add_sources(expand(paths, recursive=recursive))

    def add_sources(self, sources: Iterable[_Source]) -> AddSummary:
        todo = list(sources)
        summary = AddSummary()
        started = time.monotonic()
        pages_done = 0
        try:
            for index, source in enumerate(todo):
                progress = Progress(source.path, index, len(todo), 0, 0, 0, pages_done, started)
                if self.cancel.is_set():
                    progress.result = FileResult(source.path, Outcome.CANCELLED)
                    summary.results.append(progress.result)
                    self._report(progress)
                    continue
                self._report(progress)
                result = self._add_one(source, progress)
                summary.results.append(result)
                if result.outcome is Outcome.INDEXED:
                    pages_done += result.pages
                progress.pages_done_total = pages_done
                progress.result = result
                self._report(progress)
        finally:
            if summary.count(Outcome.INDEXED):
                self._optimize()
            summary.seconds = time.monotonic() - started
        return summary

    def _optimize(self) -> None:
        """Fold the batch into the indexes: a nicety (searches see unindexed rows too), so a
        failure here is logged, not reported as a failed add."""
        name = self.collection.store_name
        try:
            with self.store.writing(name):
                self.store.optimize(name)
        except Exception:
            log.warning("optimising %s failed", name, exc_info=True)

    def _report(self, progress: Progress) -> None:
        if self.on_progress is not None:
            self.on_progress(progress)

    def _document(self, path: Path) -> tuple[KnowledgeDocument, bool]:
        """The document's row, created if new (in its own committed transaction); True if created."""
        key = collections.path_hash(path)
        with self.context.session() as session:
            document = session.exec(
                select(KnowledgeDocument).where(
                    KnowledgeDocument.collection_id == self.collection.id, KnowledgeDocument.path_hash == key
                )
            ).first()
            created = document is None
            if document is None:
                document = KnowledgeDocument(
                    collection_id=self.collection.id or 0, path=str(path), path_hash=key, name=path.name[:255]
                )
                session.add(document)
                session.flush()
            session.expunge(document)
            return document, created

    def _update(self, document_id: int, **fields: object) -> None:
        """Change the document's row; if it or its collection was removed meanwhile, say so."""
        with self.context.session() as session:
            row = session.get(KnowledgeDocument, document_id)
            collection = session.get(KnowledgeCollection, self.collection.id)
            if row is None or collection is None:
                raise Removed(
                    _("the collection '{name}' or this document was removed meanwhile").format(
                        name=self.collection.name
                    )
                )
            if fields.get("status") == DocumentStatus.INDEXED.value and collection.embedder != self.collection.embedder:
                raise Removed(
                    _("the collection '{name}' switched to another embedder meanwhile").format(
                        name=self.collection.name
                    )
                )
            for name, value in fields.items():
                setattr(row, name, value)
            row.updated_at = utcnow()
            session.add(row)

    def _forget(self, document_id: int) -> None:
        with self.context.session() as session:
            found = session.get(KnowledgeDocument, document_id)
            if found is not None:
                session.delete(found)

    def _add_one(self, source: _Source, progress: Progress) -> FileResult:
        """Index one file. The version its chunks carry is new for every attempt, and only the
        version the database names is searched: the old one serves until the new one is in."""
        path = source.path
        began = time.monotonic()
        document, created = self._document(path)
        doc_id = document.id or 0
        before = {"status": document.status, "problem": document.problem, "error": document.error}
        digest: str | None = None
        try:
            stat = path.stat()
            if not S_ISREG(stat.st_mode):
                raise LoadError(Problem.UNSUPPORTED, _("{file} is not a regular file").format(file=path.name))
            if stat.st_size <= self.max_bytes:
                digest = file_hash(path)
        except OSError as error:
            return self._failed(source, document, created, Problem.UNREADABLE, _read_error(path, error), began)
        except LoadError as error:
            return self._failed(source, document, created, error.problem, str(error), began)
        if (
            not self.force
            and digest is not None
            and document.content_hash == digest
            and document.status == DocumentStatus.INDEXED.value
            and document.indexed_version is not None
            and document.embedder == self.collection.embedder
        ):
            return FileResult(path, Outcome.UNCHANGED, pages=document.pages, chunks=document.chunks)
        self._update(doc_id, status=DocumentStatus.INDEXING.value, size_bytes=stat.st_size)
        version = f"{(digest or '')[:16]}-{uuid.uuid4().hex[:12]}"
        name = self.collection.store_name
        try:
            loaded = load(path, password=self.password, max_bytes=self.max_bytes)
            progress.pages = loaded.pages
            self._report(progress)
            chunks = chunk_document(loaded, size=self.collection.chunk_size, overlap=self.collection.chunk_overlap)
            if not chunks:
                raise LoadError(Problem.NO_TEXT, _("{file} has no text to index").format(file=path.name))
            progress.chunks = len(chunks)
            assert digest is not None  # load() refused anything over the size limit
            stored = [
                StoredChunk(doc_id, version, n, c.text, path.name, c.page, c.heading, c.start, c.end)
                for n, c in enumerate(chunks)
            ]
            vectors, embed_seconds = self._embed([c.text for c in chunks], progress)
            with self.store.writing(name):  # one writer per collection, across processes
                # Leftovers of an interrupted attempt go; the version in use stays until replaced.
                self.store.sweep(name, doc_id, document.indexed_version)
                self.store.add(name, stored, vectors)
                try:
                    self._mark_indexed(doc_id, loaded, digest, version, len(stored), time.monotonic() - began)
                except BaseException:
                    self.store.sweep(name, doc_id, document.indexed_version)
                    raise
                self.store.sweep(name, doc_id, version)
        except Cancelled:  # as it was before: its previous state, or no record at all if it is new
            if created:
                self._forget(doc_id)
            else:
                self._update(doc_id, **before)
            return FileResult(path, Outcome.CANCELLED, seconds=time.monotonic() - began)
        except Removed:
            raise
        except (LoadError, MaiError, OSError) as error:
            problem = error.problem if isinstance(error, LoadError) else Problem.EMBEDDING
            if isinstance(error, OSError):
                problem = Problem.UNREADABLE
            message = str(error) if isinstance(error, MaiError) else _read_error(path, error)
            return self._failed(source, document, created, problem, message, began, digest)
        return FileResult(
            path,
            Outcome.INDEXED,
            pages=loaded.pages,
            chunks=len(stored),
            seconds=time.monotonic() - began,
            embed_seconds=embed_seconds,
            low_quality=loaded.low_quality,
        )

    def _failed(
        self,
        source: _Source,
        document: KnowledgeDocument,
        created: bool,
        problem: Problem,
        message: str,
        began: float,
        digest: str | None = None,
    ) -> FileResult:
        """Record why the file failed. A version indexed before stays searchable (a provider
        outage or a file that broke must not empty the collection); a new file found while
        walking a folder that is not a document is forgotten, as if never added."""
        skipped = source.from_folder and problem in (Problem.UNSUPPORTED, Problem.UNREADABLE)
        if skipped and created:
            self._forget(document.id or 0)
        else:
            self._update(
                document.id or 0,
                status=DocumentStatus.FAILED.value,
                problem=problem.value,
                error=message,
                content_hash=digest if document.indexed_version is None else document.content_hash,
            )
        outcome = Outcome.SKIPPED if skipped else Outcome.FAILED
        return FileResult(source.path, outcome, problem, message, seconds=time.monotonic() - began)

    def _embed(self, texts: list[str], progress: Progress) -> tuple[np.ndarray, float]:
        parts = []
        seconds = 0.0
        for first in range(0, len(texts), EMBED_BATCH):
            if self.cancel.is_set():
                raise Cancelled(_("cancelled"))
            began = time.monotonic()
            parts.append(self.embedder.embed_passages(texts[first : first + EMBED_BATCH]))
            seconds += time.monotonic() - began
            progress.chunks_done = min(len(texts), first + EMBED_BATCH)
            self._report(progress)
        return np.vstack(parts), seconds

    def _mark_indexed(
        self, doc_id: int, loaded: LoadedDocument, digest: str, version: str, chunks: int, seconds: float
    ) -> None:
        self._update(
            doc_id,
            kind=loaded.kind.value,
            content_hash=digest,
            indexed_version=version,
            pages=loaded.pages,
            characters=loaded.characters,
            chunks=chunks,
            status=DocumentStatus.INDEXED.value,
            problem=None,
            error=None,
            low_quality=loaded.low_quality,
            warnings="\n".join(loaded.warnings) or None,
            embedder=self.collection.embedder,
            seconds=round(seconds, 3),
            indexed_at=utcnow(),
        )


def _read_error(path: Path, error: OSError) -> str:
    return _("cannot read {file}: {reason}").format(file=path.name, reason=error.strerror or error)


def reindex_sources(context: AppContext, collection: KnowledgeCollection) -> list[_Source]:
    """Every document of the collection, to be read again (e.g. after changing its embedder)."""
    with context.session(write=False) as session:
        return [
            _Source(Path(d.path), False)
            for d in collections.documents(session, collection)
            if d.problem != Problem.UNSUPPORTED.value
        ]
