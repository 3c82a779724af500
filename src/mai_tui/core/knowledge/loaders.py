"""Read a PDF, PPTX, DOCX, text or Markdown file into sections of text, or say why it cannot be.

`load()` judges a file by its content, never by its name: a PDF renamed `.txt` is read as a
PDF, a picture renamed `.pdf` is refused. The name is only used to tell Markdown from plain
text. Everything that cannot be indexed raises `LoadError`, whose `problem` says why and whose
message names the file and says what to do.

pypdf, python-pptx and lxml are imported inside the functions that use them, so importing the
core stays fast.
"""

from __future__ import annotations

import codecs
import re
import stat
from pathlib import Path
from typing import TYPE_CHECKING

from mai_tui.core.knowledge.documents import DocumentKind, LoadedDocument, LoadError, Problem, Section
from mai_tui.i18n import _

if TYPE_CHECKING:
    pass

from mai_tui.core.knowledge.load_office import _load_office
from mai_tui.core.knowledge.load_pdf import _load_pdf
from mai_tui.core.knowledge.load_problems import (
    _empty,
    _looks_garbled,
    _ole_error,
    _too_large,
    _unreadable,
    _unsupported,
)

DEFAULT_MAX_BYTES = 50 * 1024 * 1024

_MIB = 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # Compound File Binary: legacy or encrypted Office
_MARKDOWN_SUFFIXES = {".md", ".markdown"}


def load(path: Path, *, password: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadedDocument:
    """Read `path` into sections of text (a page, a slide, or the text under a heading).

    `password` opens an encrypted PDF. Files bigger than `max_bytes` are refused before they
    are read. Raises `LoadError` for anything that cannot be indexed: missing or unreadable
    (UNREADABLE), empty (EMPTY), too big (TOO_LARGE), not a supported type judged by its content
    (UNSUPPORTED), encrypted (ENCRYPTED), damaged (CORRUPT), without text (NO_TEXT), or an
    Office file that would unpack to far more than its size (ARCHIVE_BOMB).
    A document whose text looks like garbled OCR loads, with `low_quality` set and a warning.
    """
    name = path.name
    try:
        info = path.stat()
    except OSError as error:
        raise _unreadable(name, error) from error
    if not stat.S_ISREG(info.st_mode):
        raise LoadError(Problem.UNREADABLE, _("{name} is not a file; give the path of a document").format(name=name))
    if info.st_size == 0:
        raise _empty(name)
    if info.st_size > max_bytes:
        raise _too_large(name, info.st_size, max_bytes)
    try:
        with path.open("rb") as handle:
            data = handle.read(max_bytes + 1)
    except OSError as error:
        raise _unreadable(name, error) from error
    if not data:
        raise _empty(name)
    if len(data) > max_bytes:  # it grew between stat and read
        raise _too_large(name, info.st_size, max_bytes)

    if data.startswith(b"%PDF-"):
        document = _load_pdf(path, data, password)
    elif data.startswith(_ZIP_MAGIC):
        document = _load_office(path, data, max_bytes)
    elif data.startswith(_OLE_MAGIC):
        raise _ole_error(name, data)
    else:
        document = _load_text(path, data)

    if _looks_garbled("\n".join(section.text for section in document.sections)):
        document.low_quality = True
        document.warnings.append(
            _(
                "the text of {name} looks garbled (a poor OCR layer?); it is indexed, "
                "but answers drawn from it may be unreliable"
            ).format(name=name)
        )
    return document


# --- text and Markdown ------------------------------------------------------------------------

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),  # before UTF-16 LE: it starts with the same two bytes
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def _decode_text(data: bytes) -> str | None:
    """The text of a UTF-8 (BOM optional) or BOM-marked UTF-16/32 file; None if it is not text."""
    for bom, codec in _BOMS:
        if data.startswith(bom):
            try:
                text = data.decode(codec)
            except UnicodeDecodeError:
                return None
            break
    else:
        if b"\x00" in data:
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            try:  # an older Western file (Latin-1 / Windows-1252), common for French or Spanish text
                text = data.decode("cp1252")
            except UnicodeDecodeError:
                return None
            controls = sum(1 for c in text if c < " " and c not in "\t\n\r\f")
            if controls > len(text) // 100:
                return None
    if "\x00" in text:
        return None
    return text.replace("\r\n", "\n").replace("\r", "\n")


_ATX_HEADING = re.compile(r" {0,3}(#{1,6})(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*")
_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")


def _load_text(path: Path, data: bytes) -> LoadedDocument:
    text = _decode_text(data)
    if text is None:
        raise _unsupported(path.name)
    if not text.strip():
        raise _empty(path.name)
    if path.suffix.lower() in _MARKDOWN_SUFFIXES:
        return LoadedDocument(path, DocumentKind.MARKDOWN, _markdown_sections(text), pages=1)
    return LoadedDocument(path, DocumentKind.TEXT, [Section(text)], pages=1)


def _markdown_sections(text: str) -> list[Section]:
    """Split at ATX headings (`# Title`), outside fenced code blocks; the heading line stays in."""
    sections: list[Section] = []
    start = 0
    heading: str | None = None
    fence: str | None = None
    position = 0
    for line in text.splitlines(keepends=True):
        content = line.rstrip("\n")
        fence_match = _FENCE.match(content)
        if fence_match:
            marker = fence_match.group(1)
            if fence is None:
                fence = marker
            elif marker[0] == fence[0] and len(marker) >= len(fence):
                fence = None
        elif fence is None and (heading_match := _ATX_HEADING.fullmatch(content)):
            if text[start:position].strip():
                sections.append(Section(text[start:position], heading=heading))
            start = position
            heading = (heading_match.group(2) or "").strip() or None
        position += len(line)
    if text[start:].strip():
        sections.append(Section(text[start:], heading=heading))
    return sections
