"""Office files (ZIP): the archive-bomb check, then PPTX (python-pptx) or DOCX (lxml)."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mai_tui.core.knowledge.documents import DocumentKind, LoadedDocument, LoadError, Problem, Section
from mai_tui.core.knowledge.load_problems import _MIB, _corrupt, _no_text, _size, _unsupported
from mai_tui.i18n import _

# Archive bombs: an Office file is a ZIP; refuse one that would unpack to far more than it weighs.
_UNPACKED_CAP = 1024 * _MIB  # never unpack more than 1 GiB in total ...
_UNPACKED_FACTOR = 20  # ... nor more than 20 times the size limit of the file itself
_BOMB_RATIO = 100  # a member packed more than 100:1 ...
_BOMB_MEMBER_BYTES = 10 * _MIB  # ... and unpacking to more than 10 MiB is a bomb, not a document

_HEADING_MAX = 200  # characters kept of a slide title used as a heading


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
