"""The LanceDB chunk store: atomic adds, version sweeps, filters, both searches."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mai_tui.core.knowledge.store import LanceStore, StoredChunk, StoreError

DIM = 8


def chunks(document_id: int, version: str, texts: list[str], page: int | None = 1) -> list[StoredChunk]:
    file = f"doc{document_id}.pdf"
    return [StoredChunk(document_id, version, n, t, file, page, None, 0, len(t)) for n, t in enumerate(texts)]


def unit(rows: int, seed: int) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((rows, DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors


@pytest.fixture
def store(tmp_path: Path) -> LanceStore:
    return LanceStore(tmp_path / "lancedb")


def test_an_empty_store_answers_every_call(store: LanceStore) -> None:
    assert store.count("nothing") == 0
    assert store.vector_search("nothing", unit(1, 0)[0], 5) == []
    assert store.text_search("nothing", "anything", 5) == []
    assert store.chunks("nothing", 1) == []
    store.sweep("nothing", 1, None)
    store.drop("nothing")


def test_vector_search_finds_the_nearest_and_reports_cosine_similarity(store: LanceStore) -> None:
    vectors = unit(5, 1)
    store.add("c", chunks(1, "v1", [f"text {i}" for i in range(5)]), vectors)
    hits = store.vector_search("c", vectors[3], 2)
    assert hits[0].chunk.ordinal == 3
    assert hits[0].score == pytest.approx(1.0, abs=1e-5)
    assert hits[0].vector is not None
    assert np.allclose(hits[0].vector, vectors[3])
    assert hits[1].score < hits[0].score


def test_text_search_ranks_by_bm25_and_filters_by_document(store: LanceStore) -> None:
    store.add("c", chunks(1, "v1", ["the irish sea lies between", "apples and pears"]), unit(2, 2))
    store.add("c", chunks(2, "v1", ["crossing the irish sea by ferry", "nothing here"]), unit(2, 3))
    assert {h.chunk.document_id for h in store.text_search("c", "irish sea", 5)} == {1, 2}
    only = store.text_search("c", "irish sea", 5, document_ids=[2])
    assert [h.chunk.document_id for h in only] == [2]
    assert store.text_search("c", "zebra", 5) == []


def test_rows_added_after_the_text_index_are_found_too(store: LanceStore) -> None:
    store.add("c", chunks(1, "v1", ["first words"]), unit(1, 4))
    store.add("c", chunks(2, "v1", ["later unicorn words"]), unit(1, 5))
    assert [h.chunk.document_id for h in store.text_search("c", "unicorn", 5)] == [2]
    store.optimize("c")
    assert [h.chunk.document_id for h in store.text_search("c", "unicorn", 5)] == [2]


def test_sweep_keeps_only_the_named_version(store: LanceStore) -> None:
    store.add("c", chunks(1, "old", ["old one", "old two"]), unit(2, 6))
    store.add("c", chunks(1, "new", ["new one"]), unit(1, 7))
    store.add("c", chunks(2, "old", ["other document"]), unit(1, 8))
    store.sweep("c", 1, "new")
    assert [c.text for c in store.chunks("c", 1)] == ["new one"]
    assert store.count("c", 2) == 1  # another document with the same version string is untouched
    store.sweep("c", 1, None)
    assert store.count("c", 1) == 0


def test_chunks_come_back_in_document_order(store: LanceStore) -> None:
    texts = [f"part {i}" for i in range(40)]
    store.add("c", chunks(1, "v", texts), unit(40, 9))
    assert [c.text for c in store.chunks("c", 1)] == texts


def test_a_failed_add_leaves_nothing(store: LanceStore) -> None:
    store.add("c", chunks(1, "v", ["kept"]), unit(1, 10))
    with pytest.raises(StoreError, match="re-index"):
        store.add("c", chunks(2, "v", ["other width"]), np.ones((1, DIM + 1), dtype=np.float32))
    with pytest.raises(ValueError, match="one vector per chunk"):
        store.add("c", chunks(2, "v", ["a", "b"]), unit(1, 11))
    assert store.count("c") == 1


def test_two_stores_on_one_folder_see_each_others_writes(tmp_path: Path) -> None:
    first, second = LanceStore(tmp_path / "db"), LanceStore(tmp_path / "db")
    first.add("c", chunks(1, "v", ["written by the first"]), unit(1, 12))
    second.add("c", chunks(2, "v", ["written by the second"]), unit(1, 13))
    assert first.count("c") == 2
    assert [h.chunk.document_id for h in first.text_search("c", "second", 5)] == [2]


def test_drop_removes_the_table(store: LanceStore) -> None:
    store.add("c", chunks(1, "v", ["x"]), unit(1, 14))
    store.drop("c")
    assert store.count("c") == 0
    assert not list((store.folder).glob("c.lance/data/*"))


def test_adding_the_same_chunks_twice_keeps_one_copy(store: LanceStore) -> None:
    vectors = unit(3, 15)
    store.add("c", chunks(1, "v", ["a", "b", "c"]), vectors)
    store.add("c", chunks(1, "v", ["a", "b", "c"]), vectors)
    assert store.count("c") == 3
