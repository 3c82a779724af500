"""PDF: text per page with pypdf (imported when first needed), encrypted files, broken ones."""

from __future__ import annotations

import io
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING

from mai_tui.core.knowledge.documents import DocumentKind, LoadedDocument, LoadError, Problem, Section
from mai_tui.core.knowledge.load_problems import _corrupt
from mai_tui.i18n import _

if TYPE_CHECKING:
    from pypdf import PdfReader


_LIGATURES = str.maketrans({"ﬀ": "ff", "ﬁ": "fi", "ﬂ": "fl", "ﬃ": "ffi", "ﬄ": "ffl", "ﬅ": "st", "ﬆ": "st"})
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _quiet_pypdf() -> None:
    # pypdf logs a warning for every defect it repairs (bad xref offsets, odd fonts); those are
    # expected on real files and would litter a terminal. Leave a level someone chose alone.
    logger = logging.getLogger("pypdf")
    if logger.level == logging.NOTSET:
        logger.setLevel(logging.ERROR)


def _load_pdf(path: Path, data: bytes, password: str | None) -> LoadedDocument:
    """One section per page that has text (page = 1-based page number)."""
    from pypdf import PdfReader

    _quiet_pypdf()
    name = path.name
    try:
        reader = PdfReader(io.BytesIO(data))
        encrypted = reader.is_encrypted
    except Exception as error:  # pypdf raises many kinds (PdfReadError, ValueError, ...) on damage
        raise _corrupt(name, error) from error
    if encrypted:
        _decrypt_pdf(name, reader, password)

    sections: list[Section] = []
    unreadable_pages: list[int] = []
    try:
        pages = len(reader.pages)
        for number, page in enumerate(reader.pages, start=1):
            try:
                text = page.extract_text()
            except Exception:  # one broken page should not lose the others
                unreadable_pages.append(number)
                continue
            text = _CONTROL.sub("", text.translate(_LIGATURES)).replace("\r\n", "\n").replace("\r", "\n")
            if text.strip():
                sections.append(Section(text, page=number))
    except Exception as error:
        raise _corrupt(name, error) from error

    if not sections:
        if unreadable_pages:
            raise _corrupt(name, _("no page could be read"))
        _raise_if_structurally_broken(name, data)
        raise LoadError(
            Problem.NO_TEXT,
            _("{name} has no text layer (scanned images?); OCR would be needed to index it").format(name=name),
        )
    document = LoadedDocument(path, DocumentKind.PDF, sections, pages=pages)
    if unreadable_pages:
        document.warnings.append(
            _("pages {pages} of {name} could not be read and were skipped").format(
                pages=", ".join(str(number) for number in unreadable_pages), name=name
            )
        )
    return document


def _decrypt_pdf(name: str, reader: PdfReader, password: str | None) -> None:
    from pypdf import PasswordType
    from pypdf.errors import DependencyError

    try:
        # Permissions-only ("copy protected") files open with the empty user password.
        if reader.decrypt("") != PasswordType.NOT_DECRYPTED:
            return
        if password is not None and reader.decrypt(password) != PasswordType.NOT_DECRYPTED:
            return
    except DependencyError as error:
        raise LoadError(
            Problem.UNSUPPORTED,
            _("{name} uses an encryption this installation cannot open ({reason}); reinstall mai").format(
                name=name, reason=error
            ),
        ) from error
    except Exception as error:
        raise _corrupt(name, error) from error
    if password is None:
        message = _("{name} is encrypted with a password; give the password with --password to index it")
    else:
        message = _("the password given does not open {name}; check it and try again with --password")
    raise LoadError(Problem.ENCRYPTED, message.format(name=name))


def _raise_if_structurally_broken(name: str, data: bytes) -> None:
    """A PDF that gave no text: CORRUPT if a strict parse fails (then the emptiness is damage)."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError

    try:
        len(PdfReader(io.BytesIO(data), strict=True).pages)
    except PdfReadError as error:
        raise _corrupt(name, error) from error
    except Exception:  # a failure the strict reader cannot name is no better evidence of damage
        return
