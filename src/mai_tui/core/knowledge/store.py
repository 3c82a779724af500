"""Where chunks and their vectors live: one LanceDB table per collection, in the data folder.

The rest of the knowledge base talks to the small `ChunkStore` interface only, so a
server-backed store can stand in later. Collection and document metadata live in the
relational database (`core/store/models.py`); this store holds what is searched.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np

from mai_tui.core.errors import MaiError
from mai_tui.i18n import _

if TYPE_CHECKING:
    import pyarrow as pa
    from lancedb.table import LanceTable


@dataclass(frozen=True)
class StoredChunk:
    """A chunk as stored: where it came from and which version of its document it belongs to."""

    document_id: int
    version: str  # the document's content hash: rows of an older version are swept away
    ordinal: int  # its place in the document
    text: str
    file: str  # the file's name, for display
    page: int | None
    heading: str | None
    start: int
    end: int

    @property
    def id(self) -> str:
        return f"{self.document_id}:{self.version[:16]}:{self.ordinal}"


@dataclass(frozen=True)
class Hit:
    chunk: StoredChunk
    score: float  # vector: cosine similarity (higher is closer); text: BM25 score
    vector: np.ndarray | None = None  # the chunk's vector (unit length), where the store returns it


class StoreError(MaiError):
    """The chunk store cannot be read or written."""


class ChunkStore(Protocol):
    def add(self, collection: str, chunks: Sequence[StoredChunk], vectors: np.ndarray) -> None:
        """Store a document's chunks at once: either all of them land or none do."""

    def sweep(self, collection: str, document_id: int, keep_version: str | None) -> None:
        """Remove the document's rows, except those of `keep_version`."""

    def drop(self, collection: str) -> None: ...

    def count(self, collection: str, document_id: int | None = None) -> int: ...

    def vector_search(
        self, collection: str, vector: np.ndarray, k: int, document_ids: Sequence[int] | None = None
    ) -> list[Hit]: ...

    def text_search(
        self, collection: str, query: str, k: int, document_ids: Sequence[int] | None = None
    ) -> list[Hit]: ...

    def chunks(self, collection: str, document_id: int) -> list[StoredChunk]:
        """The document's chunks in order (to show a passage in its context)."""

    def optimize(self, collection: str) -> None:
        """Fold recent writes into the indexes (after a batch of documents)."""

    def writing(self, collection: str) -> AbstractContextManager[None]:
        """Held around a document's writes: one writer per collection, across processes."""


# Below this many chunks an exact (flat) vector search is fast enough; from here on, a
# graph index (IVF + HNSW over 8-bit vectors) keeps searches in milliseconds. Measured at
# 100,000 chunks of 384 dimensions: flat p95 136 ms; indexed p95 see benchmarks/knowledge.py.
VECTOR_INDEX_FROM = 50_000
REFINE = 5  # an indexed search fetches k × REFINE candidates and re-ranks them exactly

_FIELDS = ("id", "document_id", "version", "ordinal", "text", "file", "page", "heading", "start", "end")

# BM25 leaves these out of documents and questions. Lance's default list is English only, so
# French and Spanish function words (de, la, les, que, ...) counted as terms: every French or
# Spanish question ranked the French and Spanish passages first, whatever it asked about.
# Accented words are listed folded too (the index folds accents). A word that is also
# meaningful in another of these languages (English "son", "sin", "con") is lost to BM25 only;
# vector search still sees it.
_STOP_EN = (
    "a an and are as at be but by for if in into is it no not of on or such that the their then there these "
    "they this to was will with"
)
_STOP_FR = (
    "a à au aux avec c ce ces cet cette d dans de des du elle elles en est et été ete être etre eux il ils j je "
    "l la le les leur leurs lui m ma mais me même meme mes moi mon n ne nos notre nous on ont ou où par pas "
    "pour qu que quel quelle quelles quels qui s sa se ses son sont sur t ta te tes toi ton tu un une vos votre vous y"
)
_STOP_ES = (
    "a al algo ante como cómo con cual cuál cuales cuáles de del desde donde dónde el ella ellas ellos en entre "
    "era es esa ese eso esta este esto fue ha han hay la las le les lo los más mas me mi mis muy ni no nos o "
    "para pero por que qué quien quién se sea ser si sí sin sobre son su sus también tambien te tu tú un una "
    "uno unos y ya"
)
STOP_WORDS = frozenset(f"{_STOP_EN} {_STOP_FR} {_STOP_ES}".split())


def _schema(dim: int) -> pa.Schema:
    import pyarrow as pa

    return pa.schema(
        [
            pa.field("id", pa.string()),
            pa.field("document_id", pa.int64()),
            pa.field("version", pa.string()),
            pa.field("ordinal", pa.int32()),
            pa.field("text", pa.string()),
            pa.field("file", pa.string()),
            pa.field("page", pa.int32()),
            pa.field("heading", pa.string()),
            pa.field("start", pa.int32()),
            pa.field("end", pa.int32()),
            pa.field("vector", pa.list_(pa.float32(), dim)),
        ]
    )


def _chunk(row: dict[str, Any]) -> StoredChunk:
    return StoredChunk(
        document_id=int(row["document_id"]),
        version=str(row["version"]),
        ordinal=int(row["ordinal"]),
        text=str(row["text"]),
        file=str(row["file"]),
        page=row["page"],
        heading=row["heading"],
        start=int(row["start"]),
        end=int(row["end"]),
    )


def _vector(row: dict[str, Any]) -> np.ndarray:
    return np.asarray(row["vector"], dtype=np.float32)


def _ids_filter(document_ids: Sequence[int] | None) -> str | None:
    if document_ids is None:
        return None
    return f"document_id IN ({', '.join(str(int(i)) for i in document_ids) or '-1'})"


class LanceStore:
    """LanceDB embedded in a folder. Safe to share between threads of one process; several
    processes may write to the same folder (Lance commits are atomic and retried on conflict)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._db: Any = None
        self._lock = threading.Lock()

    def _connect(self) -> Any:
        with self._lock:
            if self._db is None:
                import lancedb

                self.folder.mkdir(parents=True, exist_ok=True)
                self._db = lancedb.connect(self.folder)
            return self._db

    def _table(self, collection: str) -> LanceTable | None:
        db = self._connect()
        try:
            return db.open_table(collection)  # type: ignore[no-any-return]
        except (FileNotFoundError, ValueError):
            return None

    def add(self, collection: str, chunks: Sequence[StoredChunk], vectors: np.ndarray) -> None:
        import pyarrow as pa

        if len(chunks) != len(vectors):
            raise ValueError("one vector per chunk")
        if not chunks:
            return
        dim = int(vectors.shape[1])
        schema = _schema(dim)
        flat = pa.array(np.ascontiguousarray(vectors, dtype=np.float32).ravel(), pa.float32())
        data = pa.table(
            {
                "id": [c.id for c in chunks],
                "document_id": [c.document_id for c in chunks],
                "version": [c.version for c in chunks],
                "ordinal": pa.array([c.ordinal for c in chunks], pa.int32()),
                "text": [c.text for c in chunks],
                "file": [c.file for c in chunks],
                "page": pa.array([c.page for c in chunks], pa.int32()),
                "heading": pa.array([c.heading for c in chunks], pa.string()),
                "start": pa.array([c.start for c in chunks], pa.int32()),
                "end": pa.array([c.end for c in chunks], pa.int32()),
                "vector": pa.FixedSizeListArray.from_arrays(flat, dim),
            },
            schema=schema,
        )
        table = self._table(collection)
        if table is None:
            try:
                table = self._connect().create_table(collection, schema=schema)
            except ValueError:  # another process created it a moment ago
                table = self._table(collection)
                assert table is not None
        stored_dim = table.schema.field("vector").type.list_size
        if stored_dim != dim:
            raise StoreError(
                _("the collection holds {stored}-dimensional vectors, not {dim}: re-index it").format(
                    stored=stored_dim, dim=dim
                )
            )
        # One commit: all rows or none. An upsert on the chunk id, so two processes adding the
        # same file at once leave one copy, not two.
        table.merge_insert("id").when_matched_update_all().when_not_matched_insert_all().execute(data)
        if not any(index.index_type == "FTS" for index in table.list_indices()):
            from lancedb.index import FTS

            table.create_index("text", config=FTS(ascii_folding=True, custom_stop_words=sorted(STOP_WORDS)))

    def sweep(self, collection: str, document_id: int, keep_version: str | None) -> None:
        table = self._table(collection)
        if table is None:
            return
        condition = f"document_id = {int(document_id)}"
        if keep_version is not None:
            condition += f" AND version != '{_quote(keep_version)}'"
        table.delete(condition)

    def drop(self, collection: str) -> None:
        db = self._connect()
        if self._table(collection) is not None:
            db.drop_table(collection)

    def count(self, collection: str, document_id: int | None = None) -> int:
        table = self._table(collection)
        if table is None:
            return 0
        return int(table.count_rows(None if document_id is None else f"document_id = {int(document_id)}"))

    def vector_search(
        self, collection: str, vector: np.ndarray, k: int, document_ids: Sequence[int] | None = None
    ) -> list[Hit]:
        table = self._table(collection)
        if table is None:
            return []
        query = table.search(np.asarray(vector, dtype=np.float32)).distance_type("cosine").limit(k)
        query = query.refine_factor(REFINE)  # with an index: re-rank its candidates by exact distance
        where = _ids_filter(document_ids)
        if where:
            query = query.where(where, prefilter=True)
        # Naming the score column keeps Lance from warning (on stderr) that it will stop adding it.
        rows = query.select([*_FIELDS, "vector", "_distance"]).to_list()
        return [Hit(_chunk(r), 1.0 - float(r["_distance"]), _vector(r)) for r in rows]

    def text_search(self, collection: str, query: str, k: int, document_ids: Sequence[int] | None = None) -> list[Hit]:
        table = self._table(collection)
        if table is None or not query.strip():
            return []
        search = table.search(query, query_type="fts").limit(k)
        where = _ids_filter(document_ids)
        if where:
            search = search.where(where, prefilter=True)
        try:
            rows = search.select([*_FIELDS, "vector", "_score"]).to_list()
        except ValueError:  # the query has nothing to search for (only stop words or symbols)
            return []
        return [Hit(_chunk(r), float(r["_score"]), _vector(r)) for r in rows]

    def chunks(self, collection: str, document_id: int) -> list[StoredChunk]:
        table = self._table(collection)
        if table is None:
            return []
        rows = (
            table.search()
            .where(f"document_id = {int(document_id)}")
            .select([*_FIELDS])
            .limit(max(1, self.count(collection, document_id)))
            .to_list()
        )
        return sorted((_chunk(r) for r in rows), key=lambda c: c.ordinal)

    @contextmanager
    def writing(self, collection: str) -> Iterator[None]:
        """An exclusive lock file next to the table: concurrent Lance commits to one table can
        conflict (and a sweep of one writer could remove another's fresh rows), so writers of
        a collection take turns. Readers never wait."""
        import fcntl

        self.folder.mkdir(parents=True, exist_ok=True)
        with (self.folder / f"{collection}.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def optimize(self, collection: str) -> None:
        table = self._table(collection)
        if table is None:
            return
        table.optimize()
        indexed = any(index.index_type.startswith("IVF") for index in table.list_indices())
        if not indexed and table.count_rows() >= VECTOR_INDEX_FROM:
            from lancedb.index import HnswSq

            table.create_index("vector", config=HnswSq(distance_type="cosine"))


def _quote(value: str) -> str:
    return value.replace("'", "''")
