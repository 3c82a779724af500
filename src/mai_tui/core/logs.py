"""Logging to a rotated file in the state folder, with secrets redacted.

A TUI owns the terminal, so nothing is logged to stderr. Every record passes through
`RedactSecrets`, which replaces any key the secret store has handed out (and anything
shaped like a provider key) with a mask, so keys never reach the log even by accident.
"""

from __future__ import annotations

import logging
import re
from logging.handlers import RotatingFileHandler
from pathlib import Path

_known_secrets: set[str] = set()
_KEY_SHAPES = re.compile(r"\b(sk-(?:or-v1-|ant-|proj-)?[A-Za-z0-9_\-]{8,}|AIza[0-9A-Za-z_\-]{20,})")
MASK = "[REDACTED]"
_MAX_BYTES = 2 * 1024 * 1024
_BACKUPS = 3


def register_secret(value: str) -> None:
    """Remember a secret so that it is redacted from every later log record."""
    if len(value) >= 6:
        _known_secrets.add(value)


def redact(text: str) -> str:
    """Replace every known secret and key-shaped token in `text` with a mask."""
    for secret in _known_secrets:
        if secret in text:
            text = text.replace(secret, MASK)
    return _KEY_SHAPES.sub(MASK, text)


class RedactSecrets(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if record.exc_info and record.exc_info[1] is not None:
            cleaned_exc = redact(logging.Formatter().formatException(record.exc_info))
            record.exc_info = None
            record.exc_text = cleaned_exc
        record.msg, record.args = cleaned, None
        return True


def setup_logging(log_file: Path, level: str) -> None:
    """Send the `mai_tui` loggers to `log_file` at `level` (idempotent)."""
    logger = logging.getLogger("mai_tui")
    logger.setLevel(level)
    for handler in list(logger.handlers):
        if isinstance(handler, RotatingFileHandler):
            if Path(handler.baseFilename) == log_file.resolve():
                return
            logger.removeHandler(handler)
            handler.close()
    log_file.parent.mkdir(parents=True, exist_ok=True)
    log_file.parent.chmod(0o700)
    handler = RotatingFileHandler(log_file, maxBytes=_MAX_BYTES, backupCount=_BACKUPS, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    logger.addHandler(handler)
    logger.propagate = False
    # Libraries' warnings (asyncio, SDKs) go to the same file: Python's last-resort handler
    # would print them on stderr, over the TUI.
    root = logging.getLogger()
    if not any(h is handler for h in root.handlers):
        for old in [h for h in root.handlers if isinstance(h, RotatingFileHandler)]:
            root.removeHandler(old)
        root.addHandler(handler)
        root.setLevel(min(root.level or logging.WARNING, logging.WARNING))
