"""The few OpenRouter account endpoints the usage sync reads, with retries done right.

`GET /generation?id=` (one call's record), `GET /key` (the calling key's counters),
`GET /keys/{hash}` and `GET /activity` (management key). There is no endpoint that lists
generations: nothing here pretends there is.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from mai_tui.core.errors import MaiError
from mai_tui.core.providers.base import ssl_context
from mai_tui.core.providers.errors import retry_after_seconds
from mai_tui.i18n import _

log = logging.getLogger(__name__)

RETRYABLE = frozenset({408, 429, 500, 502, 503, 504})


class SyncError(MaiError):
    """OpenRouter could not be read (after retries); the sync reports it and tries again later."""


@dataclass
class OpenRouterAPI:
    base_url: str
    timeout: float = 30.0
    attempts: int = 4  # the first try included
    base_delay: float = 1.0
    max_delay: float = 60.0
    sleep: Callable[[float], None] = field(default=time.sleep)
    _client: Any = field(default=None, init=False, repr=False)

    def _http(self) -> Any:
        if self._client is None:
            import httpx

            self._client = httpx.Client(
                base_url=self.base_url.rstrip("/") + "/",
                timeout=httpx.Timeout(self.timeout, connect=min(self.timeout, 10.0)),
                verify=ssl_context(),
                trust_env=True,
            )
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None

    def get(self, path: str, key: str, params: Mapping[str, str] | None = None) -> Any | None:
        """The JSON body of GET `path` (numbers as Decimal); None for 404. Retries 429 and 5xx,
        honouring Retry-After; raises SyncError when OpenRouter keeps refusing."""
        import httpx

        for attempt in range(self.attempts):
            try:
                response = self._http().get(
                    path.lstrip("/"), params=dict(params or {}), headers={"Authorization": f"Bearer {key}"}
                )
            except httpx.HTTPError as error:
                problem = _("cannot reach OpenRouter: {error}").format(error=type(error).__name__)
                status = None
            else:
                status = response.status_code
                if status == 404:
                    return None
                if status < 400:
                    try:
                        return json.loads(response.text, parse_float=Decimal)
                    except ValueError:
                        message = _("OpenRouter sent something that is not JSON for {path}").format(path=path)
                        raise SyncError(message) from None
                problem = _("OpenRouter answered {status} for {path}: {message}").format(
                    status=status, path=path, message=_message(response.text)
                )
                if status not in RETRYABLE:
                    raise SyncError(problem)
            if attempt + 1 == self.attempts:
                raise SyncError(problem)
            wait = None
            if status is not None:
                wait = retry_after_seconds(response.headers)
            delay = min(wait if wait is not None else self.base_delay * 2**attempt, self.max_delay)
            log.info("%s; retrying in %.1f s", problem, delay)
            self.sleep(delay)
        raise AssertionError("unreachable")

    def generation(self, key: str, generation_id: str) -> Mapping[str, Any] | None:
        body = self.get("generation", key, {"id": generation_id})
        return None if body is None else _data(body, "generation")

    def key_info(self, key: str) -> Mapping[str, Any]:
        body = self.get("key", key)
        if body is None:
            raise SyncError(_("OpenRouter does not know this key (GET /key: 404)"))
        return _data(body, "key")

    def managed_key(self, management_key: str, key_hash: str) -> Mapping[str, Any] | None:
        body = self.get(f"keys/{key_hash}", management_key)
        return None if body is None else _data(body, "keys")

    def activity(self, management_key: str, day: str, key_hash: str) -> list[Mapping[str, Any]]:
        body = self.get("activity", management_key, {"date": day, "api_key_hash": key_hash})
        if body is None:
            return []
        rows = body.get("data") if isinstance(body, dict) else None
        if not isinstance(rows, list):
            raise SyncError(_("OpenRouter's /activity answer has no data list"))
        return rows


def _data(body: Any, what: str) -> Mapping[str, Any]:
    data = body.get("data") if isinstance(body, dict) else None
    if not isinstance(data, dict):
        raise SyncError(_("OpenRouter's /{what} answer has no data object").format(what=what))
    return data


def _message(text: str) -> str:
    try:
        return str(json.loads(text)["error"]["message"])[:200]
    except (ValueError, KeyError, TypeError):
        return text.strip()[:200] or "-"
