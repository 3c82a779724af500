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
import io
import logging
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mai_tui.core.knowledge.documents import DocumentKind, LoadedDocument, LoadError, Problem, Section
from mai_tui.i18n import _

if TYPE_CHECKING:
    from pypdf import PdfReader

DEFAULT_MAX_BYTES = 50 * 1024 * 1024

_MIB = 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_OLE_MAGIC = bytes.fromhex("d0cf11e0a1b11ae1")  # Compound File Binary: legacy or encrypted Office
_MARKDOWN_SUFFIXES = {".md", ".markdown"}

# Archive bombs: an Office file is a ZIP; refuse one that would unpack to far more than it weighs.
_UNPACKED_CAP = 1024 * _MIB  # never unpack more than 1 GiB in total ...
_UNPACKED_FACTOR = 20  # ... nor more than 20 times the size limit of the file itself
_BOMB_RATIO = 100  # a member packed more than 100:1 ...
_BOMB_MEMBER_BYTES = 10 * _MIB  # ... and unpacking to more than 10 MiB is a bomb, not a document

_HEADING_MAX = 200  # characters kept of a slide title used as a heading


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


# --- errors -----------------------------------------------------------------------------------


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


# --- PDF --------------------------------------------------------------------------------------

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


# --- Office files (ZIP) -----------------------------------------------------------------------


def _load_office(path: Path, data: bytes, max_bytes: int) -> LoadedDocument:
    name = path.name
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError, OSError) as error:
        raise _corrupt(name, error) from error
    _refuse_archive_bombs(name, members, max_bytes)
    names = {member.filename for member in members}
    if "word/document.xml" in names:
        return _load_docx(path, archive)
    if "ppt/presentation.xml" in names:
        return _load_pptx(path, data)
    raise _unsupported(name)


def _refuse_archive_bombs(name: str, members: list[zipfile.ZipInfo], max_bytes: int) -> None:
    """Judge by the sizes the archive declares: zipfile never unpacks a member past them."""
    total = sum(member.file_size for member in members)
    packed = sum(member.compress_size for member in members)
    cap = min(_UNPACKED_FACTOR * max_bytes, _UNPACKED_CAP)
    bomb = total > cap or any(
        member.file_size > _BOMB_MEMBER_BYTES and member.file_size > _BOMB_RATIO * max(member.compress_size, 1)
        for member in members
    )
    parts = [m for m in members if m.filename.endswith(".xml") and m.file_size > max_bytes]
    if parts and not bomb:  # parsed whole: an XML part costs many times its size in memory
        raise LoadError(
            Problem.TOO_LARGE,
            _("{name} holds a text part of {size}, over the limit of {limit}").format(
                name=name, size=_size(parts[0].file_size), limit=_size(max_bytes)
            ),
        )
    if bomb:
        raise LoadError(
            Problem.ARCHIVE_BOMB,
            _(
                "{name} would unpack to {size} from {packed}, which no real document does; "
                "it is refused as a possible archive bomb"
            ).format(name=name, size=_size(total), packed=_size(packed)),
        )


def _read_member(name: str, archive: zipfile.ZipFile, member: str) -> bytes | None:
    try:
        return archive.read(member)
    except KeyError:
        return None
    except Exception as error:  # CRC errors, truncated data, unknown compression, encrypted member
        raise _corrupt(name, error) from error


# --- PPTX -------------------------------------------------------------------------------------


def _load_pptx(path: Path, data: bytes) -> LoadedDocument:
    """One section per slide (page = slide number, heading = its title), notes included.

    Shapes are read in the slide's own order, which is PowerPoint's reading order (the one
    screen readers follow); grouped shapes are opened, tables come out one row per line.
    """
    from pptx import Presentation

    name = path.name
    sections: list[Section] = []
    try:
        slides = list(Presentation(io.BytesIO(data)).slides)
        for number, slide in enumerate(slides, start=1):
            blocks = [text for shape in slide.shapes for text in _shape_texts(shape)]
            if slide.has_notes_slide:
                notes = _pptx_text(slide.notes_slide.notes_text_frame.text).strip()
                if notes:
                    blocks.append("Notes: " + notes)
            text = "\n\n".join(block for block in blocks if block.strip())
            if text.strip():
                sections.append(Section(text, page=number, heading=_slide_title(slide)))
    except Exception as error:  # python-pptx raises KeyError, lxml errors, ... on a damaged package
        raise _corrupt(name, error) from error
    if not sections:
        raise _no_text(name)
    return LoadedDocument(path, DocumentKind.PPTX, sections, pages=len(slides))


def _pptx_text(text: str) -> str:
    return text.replace("\v", "\n")  # python-pptx renders a line break inside a paragraph as \v


def _shape_texts(shape: Any) -> list[str]:
    from pptx.enum.shapes import MSO_SHAPE_TYPE

    if shape.shape_type == MSO_SHAPE_TYPE.GROUP:
        return [text for child in shape.shapes for text in _shape_texts(child)]
    if getattr(shape, "has_table", False) and shape.has_table:
        rows = []
        for row in shape.table.rows:
            cells = [" ".join(_pptx_text(cell.text).split()) for cell in row.cells if not cell.is_spanned]
            line = " | ".join(cell for cell in cells if cell)
            if line:
                rows.append(line)
        return ["\n".join(rows)] if rows else []
    if getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        text = _pptx_text(shape.text_frame.text).strip()
        return [text] if text else []
    return []


def _slide_title(slide: Any) -> str | None:
    title = slide.shapes.title
    if title is None or not title.has_text_frame:
        return None
    for line in _pptx_text(title.text_frame.text).splitlines():
        if line.strip():
            return " ".join(line.split())[:_HEADING_MAX]
    return None


# --- DOCX -------------------------------------------------------------------------------------

_W_MAIN = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
_MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
_HEADING_NAME = re.compile(r"heading\s*([1-9])")


def _load_docx(path: Path, archive: zipfile.ZipFile) -> LoadedDocument:
    """Paragraphs in order, tables one row per line, a new section at every heading.

    Headings come from paragraph styles (`Title`, `Heading 1`…`Heading 9`, or any style with an
    outline level, through `word/styles.xml`). Page numbers are Word's last rendering: Word
    marks where each page began when it last laid the document out (`w:lastRenderedPageBreak`),
    and hard page breaks (`<w:br w:type="page"/>`) start pages too. They are approximate (the
    layout may have changed since), and a document Word never laid out (written by another
    program) has only hard breaks, which do not say on which page a paragraph is: its sections
    have no page number. Where there are page numbers, each section lies on one page.
    """
    from lxml import etree

    name = path.name
    document_xml = _read_member(name, archive, "word/document.xml")
    styles_xml = _read_member(name, archive, "word/styles.xml")
    parser = etree.XMLParser(resolve_entities=False, no_network=True, remove_comments=True, remove_pis=True)
    try:
        root = etree.fromstring(document_xml or b"", parser)
        styles = etree.fromstring(styles_xml, parser) if styles_xml else None
    except etree.XMLSyntaxError as error:
        raise _corrupt(name, error) from error

    namespace = root.tag[1:].split("}")[0] if root.tag.startswith("{") else _W_MAIN
    reader = _DocxReader(w=f"{{{namespace}}}", levels=_heading_levels(styles, f"{{{namespace}}}"))
    reader.use_pages = next(root.iter(reader.tag("lastRenderedPageBreak")), None) is not None
    body = root.find(reader.tag("body"))
    if body is not None:
        reader.walk_blocks(body)
    reader.flush()
    if not reader.sections:
        raise _no_text(name)
    pages = reader.page if reader.use_pages else 1
    return LoadedDocument(path, DocumentKind.DOCX, reader.sections, pages=pages)


def _heading_levels(styles: Any, w: str) -> dict[str, int]:
    """styleId → heading level (0 for Title, 1…9 for headings) of every heading paragraph style."""
    if styles is None:
        return {}
    own: dict[str, int] = {}
    based_on: dict[str, str] = {}
    for style in styles.iter(f"{w}style"):
        if style.get(f"{w}type", "paragraph") != "paragraph":
            continue
        style_id = style.get(f"{w}styleId")
        if not style_id:
            continue
        name_element = style.find(f"{w}name")
        style_name = (name_element.get(f"{w}val", "") if name_element is not None else "").strip().lower()
        outline = style.find(f"{w}pPr/{w}outlineLvl")
        if style_name == "title":
            own[style_id] = 0
        elif match := _HEADING_NAME.fullmatch(style_name):
            own[style_id] = int(match.group(1))
        elif outline is not None and (level := _outline_level(outline.get(f"{w}val"))) is not None:
            own[style_id] = level
        parent = style.find(f"{w}basedOn")
        if parent is not None and parent.get(f"{w}val"):
            based_on[style_id] = parent.get(f"{w}val")

    levels: dict[str, int] = {}
    for style_id in set(own) | set(based_on):
        current: str | None = style_id
        for _step in range(20):  # outline levels are inherited through basedOn; guard cycles
            if current is None or current in own:
                break
            current = based_on.get(current)
        if current is not None and current in own:
            levels[style_id] = own[current]
    return levels


def _outline_level(value: str | None) -> int | None:
    # outlineLvl 0…8 is heading level 1…9; 9 means body text.
    if value is None or not value.isdigit() or int(value) > 8:
        return None
    return int(value) + 1


@dataclass
class _DocxReader:
    """Walks the body once, in document order, building sections as it goes."""

    w: str
    levels: dict[str, int]
    use_pages: bool = False
    page: int = 1
    sections: list[Section] = field(default_factory=list)
    heading: str | None = None
    blocks: list[str] = field(default_factory=list)  # of the section being built
    rows: list[str] = field(default_factory=list)  # of the table being built, in this section
    boundary_pending: bool = False  # a page began and no text followed yet

    def tag(self, local: str) -> str:
        return f"{self.w}{local}"

    # building sections

    def flush(self) -> None:
        self.flush_rows()
        text = "\n\n".join(self.blocks)
        if text.strip():
            self.sections.append(Section(text, page=self.page if self.use_pages else None, heading=self.heading))
        self.blocks = []

    def flush_rows(self) -> None:
        if self.rows:
            self.blocks.append("\n".join(self.rows))
            self.rows = []

    def new_page(self) -> None:
        self.flush()
        self.page += 1

    # reading

    def walk_blocks(self, container: Any) -> None:
        w = self.w
        for child in container:
            tag = child.tag
            if tag == f"{w}p":
                self.paragraph(child)
            elif tag == f"{w}tbl":
                self.table(child)
            elif tag in (f"{w}sectPr", f"{w}del", f"{w}moveFrom", f"{_MC}Fallback"):
                continue
            elif isinstance(tag, str):  # sdt, sdtContent, customXml, ins, ...: look inside
                self.walk_blocks(child)

    def paragraph(self, element: Any) -> None:
        pieces: list[str | None] = []  # None marks where a page began
        self.collect(element, pieces)
        level = self.heading_level(element)
        if level is not None:
            for _boundary in range(pieces.count(None)):
                self.new_page()
            text = " ".join("".join(piece for piece in pieces if piece).split())
            if text:
                # A heading straight under another (a chapter title, then its first section)
                # stays with it: a section holding a lone heading is no use to search.
                if self.rows or self.blocks != [self.heading]:
                    self.flush()
                self.heading = text
                self.blocks.append(text)
            return
        self.flush_rows()
        current: list[str] = []
        for piece in pieces:
            if piece is None:
                self.emit("".join(current))
                current = []
                self.new_page()
            else:
                current.append(piece)
        self.emit("".join(current))

    def emit(self, text: str) -> None:
        text = text.strip()
        if text:
            self.blocks.append(text)

    def heading_level(self, paragraph: Any) -> int | None:
        w = self.w
        properties = paragraph.find(f"{w}pPr")
        if properties is None:
            return None
        outline = properties.find(f"{w}outlineLvl")
        if outline is not None:
            return _outline_level(outline.get(f"{w}val"))
        style = properties.find(f"{w}pStyle")
        if style is None:
            return None
        style_id = style.get(f"{w}val", "")
        if self.levels:
            return self.levels.get(style_id)
        # No styles part: fall back on the built-in style ids.
        if style_id.lower() == "title":
            return 0
        match = _HEADING_NAME.fullmatch(style_id.lower())
        return int(match.group(1)) if match else None

    def collect(self, element: Any, pieces: list[str | None]) -> None:
        """The text under `element`, in order, with None where a page begins."""
        w = self.w
        for child in element:
            tag = child.tag
            if tag == f"{w}t":
                text = child.text or ""
                pieces.append(text)
                if text.strip():
                    self.boundary_pending = False
            elif tag == f"{w}tab":
                pieces.append("\t")
            elif tag == f"{w}br":
                if child.get(f"{w}type") == "page":
                    self.boundary(pieces, explicit=True)
                else:
                    pieces.append("\n")
            elif tag == f"{w}cr":
                pieces.append("\n")
            elif tag == f"{w}lastRenderedPageBreak":
                self.boundary(pieces, explicit=False)
            elif tag == f"{w}noBreakHyphen":
                pieces.append("-")
            elif tag == f"{w}p":  # a paragraph in a text box
                self.collect(child, pieces)
                pieces.append("\n")
            elif tag in (f"{w}pPr", f"{w}rPr", f"{w}del", f"{w}moveFrom", f"{_MC}Fallback"):
                continue  # properties, deleted text, and the duplicate of a text box
            elif isinstance(tag, str):
                self.collect(child, pieces)

    def boundary(self, pieces: list[str | None], *, explicit: bool) -> None:
        if not self.use_pages:
            return
        # Word writes a rendered page break right after a hard one: the same page, not two.
        if self.boundary_pending and not explicit:
            return
        pieces.append(None)
        self.boundary_pending = True

    def table(self, element: Any) -> None:
        """One line per row, cells joined by " | "; nested tables come inline in [brackets]."""
        for row in self.children(element, "tr"):
            cells: list[str] = []
            boundaries = 0
            for cell in self.children(row, "tc"):
                if self.is_merged_continuation(cell):
                    continue
                text, found = self.cell_text(cell)
                boundaries += found
                if text:
                    cells.append(text)
            for _boundary in range(boundaries):  # the row begins the new page
                self.new_page()
            if cells:
                self.rows.append(" | ".join(cells))
        self.flush_rows()

    def cell_text(self, cell: Any) -> tuple[str, int]:
        parts: list[str] = []
        boundaries = 0
        for child in cell:
            if child.tag == f"{self.w}tbl":
                nested = []
                for row in self.children(child, "tr"):
                    texts = []
                    for inner in self.children(row, "tc"):
                        if self.is_merged_continuation(inner):
                            continue
                        text, found = self.cell_text(inner)
                        boundaries += found
                        if text:
                            texts.append(text)
                    if texts:
                        nested.append(" | ".join(texts))
                if nested:
                    parts.append("[" + "; ".join(nested) + "]")
            elif isinstance(child.tag, str) and child.tag != f"{self.w}tcPr":
                pieces: list[str | None] = []
                self.collect(child, pieces)
                boundaries += pieces.count(None)
                parts.append("".join(piece for piece in pieces if piece))
        return " ".join(" ".join(parts).split()), boundaries

    def is_merged_continuation(self, cell: Any) -> bool:
        merge = cell.find(f"{self.w}tcPr/{self.w}vMerge")
        return merge is not None and merge.get(f"{self.w}val", "continue") != "restart"

    def children(self, element: Any, local: str) -> list[Any]:
        """Children named `local`, also those wrapped in content controls or custom XML."""
        wanted = f"{self.w}{local}"
        found = []
        for child in element:
            if child.tag == wanted:
                found.append(child)
            elif child.tag in (f"{self.w}sdt", f"{self.w}sdtContent", f"{self.w}customXml"):
                found.extend(self.children(child, local))
        return found
