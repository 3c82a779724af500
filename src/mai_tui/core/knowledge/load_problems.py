"""Why a file cannot be indexed, as `LoadError`s that name the file; and a test for garbled text."""

from __future__ import annotations

import re

from mai_tui.core.knowledge.documents import LoadError, Problem
from mai_tui.i18n import _

_MIB = 1024 * 1024


def _size(size: int) -> str:
    """A size for people: 812 B, 4.5 KB, 50 MB, 1.2 GB."""
    amount = float(size)
    for unit in ("B", "KB", "MB"):
        if amount < 1024:
            return f"{amount:.1f}".removesuffix(".0") + " " + unit
        amount /= 1024
    return f"{amount:.1f}".removesuffix(".0") + " GB"


def _unreadable(name: str, error: OSError) -> LoadError:
    reason = error.strerror or str(error)
    return LoadError(
        Problem.UNREADABLE,
        _("{name} cannot be read ({reason}); check that it exists and that you may read it").format(
            name=name, reason=reason
        ),
    )


def _empty(name: str) -> LoadError:
    return LoadError(Problem.EMPTY, _("{name} is empty; there is nothing to index").format(name=name))


def _too_large(name: str, size: int, limit: int) -> LoadError:
    return LoadError(
        Problem.TOO_LARGE,
        _("{name} is {size}, over the {limit} limit; split it into smaller files").format(
            name=name, size=_size(size), limit=_size(limit)
        ),
    )


def _unsupported(name: str) -> LoadError:
    return LoadError(
        Problem.UNSUPPORTED,
        _(
            "{name} is not a PDF, Word (.docx), PowerPoint (.pptx), Markdown or text file; "
            "convert it to one of those to index it"
        ).format(name=name),
    )


def _corrupt(name: str, error: BaseException | str) -> LoadError:
    reason = str(error).strip() or type(error).__name__
    return LoadError(
        Problem.CORRUPT,
        _("{name} is damaged and cannot be read ({reason}); get a fresh copy of the file").format(
            name=name, reason=reason
        ),
    )


def _no_text(name: str) -> LoadError:
    return LoadError(Problem.NO_TEXT, _("{name} contains no text to index").format(name=name))


def _ole_error(name: str, data: bytes) -> LoadError:
    # An encrypted .docx/.pptx/.xlsx is a CFB container holding these two streams.
    if "EncryptedPackage".encode("utf-16-le") in data or "EncryptionInfo".encode("utf-16-le") in data:
        return LoadError(
            Problem.ENCRYPTED,
            _(
                "{name} is a password-protected Office document; open it in Office, "
                "save it without a password, and add it again"
            ).format(name=name),
        )
    return LoadError(
        Problem.UNSUPPORTED,
        _("{name} is an old-style Office file (.doc, .ppt or .xls); save it as .docx or .pptx to index it").format(
            name=name
        ),
    )


# --- garbled text -----------------------------------------------------------------------------

# Junk OCR glues symbols into words: «POAH «3E*»CM, s*r;tiiR», H^uid, £ug»r. Real text almost
# never has one of these symbols with a letter or digit on both sides (the real fixtures: at most
# 0.12 % of words, in formulas like L\K; the garbled letter: 4 %).
_GLUED_SYMBOL = re.compile(r"[^\W_][«»*^~|©®£¥¢¬¦¤\\{};]+[^\W_]")
# A word-like token: letters (with inner ' - . as in don't, well-known, e.g), or a number.
_WORDLIKE = re.compile(r"(?:[^\W\d_]+(?:['’\-.][^\W\d_]+)*|\d+(?:[.,:/\-]\d+)*%?)")
_EDGE_PUNCTUATION = "\"'“”‘’«»()[]{}<>.,;:!?…*•·-–—/"
_MIN_TOKENS = 40  # too little text to judge
_MAX_GLUED_SHARE = 0.01  # more than 1 glued symbol per 100 tokens: garbled
_MIN_WORDLIKE_SHARE = 0.5  # fewer than half the tokens look like words or numbers: garbled
_WORDLIKE_SAMPLE = 20_000  # tokens looked at for the word-like share (evenly spread)


def _looks_garbled(text: str) -> bool:
    """True when the text looks like a junk OCR layer rather than words.

    Two signals, both shares of the whitespace-separated tokens:
    - symbols glued inside words (`s*r;tiiR`, `H^uid`): more than 1 % is garbled;
    - word-like tokens (letters, or a number, once edge punctuation is stripped): fewer than
      50 % is garbled. Technical text stays above it (a UML spec: 72 %, a French paper full of
      formulas: 90 %). A long text is judged on about 20,000 tokens spread evenly through it.
    Texts under 40 tokens are not judged.
    """
    tokens = text.split()
    if len(tokens) < _MIN_TOKENS:
        return False
    glued = sum(1 for _match in _GLUED_SYMBOL.finditer(text))
    if glued > _MAX_GLUED_SHARE * len(tokens):
        return True
    sample = tokens[:: max(1, len(tokens) // _WORDLIKE_SAMPLE)]  # every n-th token of a long text
    wordlike = sum(1 for token in sample if _WORDLIKE.fullmatch(token.strip(_EDGE_PUNCTUATION)))
    return wordlike < _MIN_WORDLIKE_SHARE * len(sample)
