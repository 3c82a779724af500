"""A fake OpenAI-compatible `/v1/embeddings` endpoint, served over real HTTP by `FakeServer`.

It answers in the OpenAI wire format (shared/reference: `POST /v1/embeddings` ->
`{"object": "list", "data": [{"object": "embedding", "index": i, "embedding": [...]}], "model", "usage"}`)
with deterministic vectors that are deliberately NOT unit length, so a client has to normalise.
`reverse=True` sends `data` in reverse order (the real API has `index` for a reason), and a
`key` makes it refuse any other bearer token with OpenAI's own 401 body.

    with FakeEmbeddings(dim=8, key="sk-test") as fake:
        client = OpenAI(base_url=fake.base_url, api_key="sk-test")
"""

from __future__ import annotations

import hashlib
import json
from types import TracebackType
from typing import Any

from tests.fakes.server import Dynamic, FakeServer, RecordedRequest, Reply, Status

EMBEDDINGS_PATH = "/v1/embeddings"


def fake_vector(text: str, dim: int) -> list[float]:
    """The vector the fake returns for `text`: a function of the text only, norm well above 1."""
    digest = hashlib.sha256(text.encode()).digest()
    while len(digest) < dim:
        digest += hashlib.sha256(digest).digest()
    return [round((byte - 127.5) / 16, 4) for byte in digest[:dim]]


def invalid_key_body(key: str) -> dict[str, Any]:
    """OpenAI's 401 answer to a wrong key."""
    return {
        "error": {
            "message": f"Incorrect API key provided: {key[:3]}***{key[-4:]}. You can find your API key at "
            "https://platform.openai.com/account/api-keys.",
            "type": "invalid_request_error",
            "param": None,
            "code": "invalid_api_key",
        }
    }


class FakeEmbeddings:
    """POST /v1/embeddings on a `FakeServer`; `inputs` records each request's list of texts."""

    def __init__(self, *, dim: int = 8, key: str | None = None, reverse: bool = False) -> None:
        self.dim = dim
        self.key = key
        self.reverse = reverse
        self.inputs: list[list[str]] = []
        self.server = FakeServer()
        self.server.route("POST", EMBEDDINGS_PATH, self.reply)

    @property
    def base_url(self) -> str:
        """What an OpenAI client takes as `base_url` (the /v1 root)."""
        return f"{self.server.base_url}/v1"

    @property
    def reply(self) -> Reply:
        """The normal answer, to put back after scripted failures: `fail_with(Status(429), fake.reply)`."""
        return Dynamic(self._answer)

    def fail_with(self, *replies: Reply) -> None:
        """Answer the next requests with `replies` (the last one repeats)."""
        self.server.route("POST", EMBEDDINGS_PATH, *replies)

    def _answer(self, request: RecordedRequest) -> Reply:
        if self.key is not None:
            given = request.headers.get("authorization", "").removeprefix("Bearer ")
            if given != self.key:
                return Status(401, invalid_key_body(given or "none"))
        body = request.json()
        texts = body.get("input")
        if isinstance(texts, str):
            texts = [texts]
        if not isinstance(texts, list) or not texts or not all(isinstance(t, str) and t for t in texts):
            return Status(400, {"error": {"message": "'input' : input must be a string or an array of strings"}})
        if body.get("encoding_format", "float") != "float":
            return Status(400, {"error": {"message": "this fake only speaks encoding_format=float"}})
        self.inputs.append(texts)
        data = [
            {"object": "embedding", "index": index, "embedding": fake_vector(text, self.dim)}
            for index, text in enumerate(texts)
        ]
        if self.reverse:
            data.reverse()
        tokens = sum(len(text.split()) for text in texts)
        answer = {
            "object": "list",
            "data": data,
            "model": body.get("model"),
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
        return Status(200, json.dumps(answer))

    def __enter__(self) -> FakeEmbeddings:
        self.server.start()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.server.close()
