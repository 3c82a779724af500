"""Loading documents: the real fixtures read right, and every unusable file is refused with a reason.

Facts (page counts, passwords) come from shared/fixtures/SOURCES.md, part (b).
"""

from __future__ import annotations

import shutil
import zipfile
from functools import cache
from pathlib import Path

import pytest

from mai_tui.core.knowledge.documents import DocumentKind, LoadedDocument, LoadError, Problem
from mai_tui.core.knowledge.loaders import DEFAULT_MAX_BYTES, load
from tests.knowledge.conftest import DOCS


@cache
def loaded(name: str) -> LoadedDocument:
    """A real fixture document, loaded once per test session (tests only read it)."""
    return load(DOCS / name)


def section_with(document: LoadedDocument, phrase: str) -> int | None:
    """The page of the first section holding `phrase` (fails the test when none does)."""
    for section in document.sections:
        if phrase in section.text:
            return section.page
    raise AssertionError(f"{phrase!r} not found in {document.path.name}")


def refused(path: Path, *, password: str | None = None, max_bytes: int = DEFAULT_MAX_BYTES) -> LoadError:
    with pytest.raises(LoadError) as caught:
        load(path, password=password, max_bytes=max_bytes)
    return caught.value


# --- the real documents --------------------------------------------------------------------

# file, kind, pages (or slides), a phrase, the page or slide it is on
REAL_DOCUMENTS = [
    ("pdf/dense-passage-retrieval-paper.pdf", DocumentKind.PDF, 13, "top-20 passage retrieval accuracy", 1),
    ("pdf/dense-passage-retrieval-paper.pdf", DocumentKind.PDF, 13, "Passage retrieved by DPR", 13),
    ("pdf/nhn-canada-level1-data-model-spec.pdf", DocumentKind.PDF, 19, "Polygon Metadata", 19),
    ("pdf/gao-23-106826-cybersecurity-highlights.pdf", DocumentKind.PDF, 2, "not all of the desirable", 2),
    ("pdf/understanding-breast-cancer-guide.pdf", DocumentKind.PDF, 76, "First published May 2006", 2),
    ("pdf/understanding-breast-cancer-guide.pdf", DocumentKind.PDF, 76, "JUL 2016 CAN729", 76),
    ("pdf/fr-olap-query-log-paper.pdf", DocumentKind.PDF, 12, "Travaux existants et perspectives", 11),
    ("pptx/udhr-english-spanish.pptx", DocumentKind.PPTX, 6, "Testing multiple languages", 1),
    ("pptx/udhr-english-spanish.pptx", DocumentKind.PPTX, 6, "All human beings are born free", 2),
    ("pptx/nasa-gsfc-sciences-exploration-directorate.pptx", DocumentKind.PPTX, 1, "Earth Sciences Division", 1),
    ("pptx/sample-presentation.pptx", DocumentKind.PPTX, 4, "With a sub-bullet", 2),
    ("pptx/sample-presentation.pptx", DocumentKind.PPTX, 4, "1 | A1 | B1 | C1", 4),  # a table, row by row
    # Word laid this "one-page excerpt" out on two pages: a hard break, then its rendered mark.
    ("docx/us-trustee-handbook-1p.docx", DocumentKind.DOCX, 2, "appoints and supervises standing trustees", 1),
    ("docx/us-trustee-handbook-1p.docx", DocumentKind.DOCX, 2, "ROLE OF THE UNITED STATES TRUSTEE", 2),
    ("docx/moby-dick-opening-with-headings.docx", DocumentKind.DOCX, 1, "Call me Ishmael", None),
    ("docx/tables-and-nested-tables.docx", DocumentKind.DOCX, 1, "Header Col 1 | Header Col 2", None),
    # Never laid out by Word (no rendered page marks): no page numbers, however long.
    ("docx/us-trustee-chapter13-handbook-872p.docx", DocumentKind.DOCX, 1, "Standing Trustee Pledge", None),
    ("text/tinyshakespeare.txt", DocumentKind.TEXT, 1, "Before we proceed any further, hear me speak.", None),
]


@pytest.mark.parametrize(
    ("name", "kind", "pages", "phrase", "page"), REAL_DOCUMENTS, ids=[f"{r[0]}:{r[3][:20]}" for r in REAL_DOCUMENTS]
)
def test_a_real_document_loads_with_its_kind_pages_and_text_in_place(
    name: str, kind: DocumentKind, pages: int, phrase: str, page: int | None
) -> None:
    document = loaded(name)

    assert document.kind is kind
    assert document.pages == pages
    assert section_with(document, phrase) == page
    assert not document.low_quality
    assert document.warnings == []


def test_every_real_document_is_covered_by_the_table_above() -> None:
    on_disk = {
        str(path.relative_to(DOCS)) for folder in ("pdf", "pptx", "docx", "text") for path in (DOCS / folder).iterdir()
    }
    assert on_disk == {row[0] for row in REAL_DOCUMENTS}


def test_pdf_pages_become_one_section_each_numbered_from_one() -> None:
    document = loaded("pdf/nhn-canada-level1-data-model-spec.pdf")

    assert [section.page for section in document.sections] == list(range(1, 20))
    assert document.characters > 20_000


def test_french_accents_come_through_intact() -> None:
    document = loaded("pdf/fr-olap-query-log-paper.pdf")

    first_page = document.sections[0].text
    assert "Résumés et interrogations de logs de requêtes OLAP" in first_page
    assert "Université François Rabelais Tours" in first_page


def test_a_spanish_slide_keeps_its_accents() -> None:
    slide = loaded("pptx/udhr-english-spanish.pptx").sections[5]

    assert slide.page == 6
    assert "Todos los seres humanos nacen libres" in slide.text
    assert "dotados como están de razón y conciencia" in slide.text
    assert "All human beings" not in slide.text


def test_slides_are_sections_headed_by_their_titles() -> None:
    document = loaded("pptx/sample-presentation.pptx")

    assert [(s.page, s.heading) for s in document.sections] == [
        (1, "Title Slide"),
        (2, "This is the first content slide"),
        (3, "This is the second content slide"),
        (4, "This is kinda backwards, huh?"),
    ]
    # Both placeholders of the two-column slide are read.
    assert "Topic 1" in document.sections[2].text
    assert "Details 1" in document.sections[2].text


def test_word_headings_start_sections_that_carry_them() -> None:
    document = loaded("docx/moby-dick-opening-with-headings.docx")

    assert [s.heading for s in document.sections] == [None, "A Heading 1", "A Heading 2", "Another Heading 1"]
    under_heading_2 = document.sections[2].text
    assert under_heading_2.startswith("A Heading 2\n\n")
    assert "substitute for pistol and ball" in under_heading_2
    assert all(section.page is None for section in document.sections)


def test_word_tables_read_row_by_row_with_their_characters_as_written() -> None:
    text = loaded("docx/tables-and-nested-tables.docx").sections[0].text

    assert "a | >b< | c" in text
    assert "d | [e | f; g&t | h] | i" in text  # the nested table inline, not lost
    assert "&gt;" not in text
    assert "&amp;" not in text
    # Merged cells come out once each.
    assert "a | b\nc | d\ne" in text


def test_the_long_handbook_has_its_headings_and_no_page_numbers() -> None:
    document = loaded("docx/us-trustee-chapter13-handbook-872p.docx")

    headings = [section.heading for section in document.sections]
    assert "A. PURPOSE" in headings
    assert "E. SURETY BONDS" in headings
    assert document.characters > 800_000
    assert {section.page for section in document.sections} == {None}
    # A chapter title directly followed by a section title travels with it.
    purpose = document.sections[headings.index("A. PURPOSE")]
    assert purpose.text.startswith("CHAPTER 1 – INTRODUCTION\n\nA. PURPOSE\n\n")


def build_docx(path: Path, body: str, styles: str | None = None) -> Path:
    """A minimal .docx: `body` is the inside of <w:body>."""
    namespace = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"'
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", f"<w:document {namespace}><w:body>{body}</w:body></w:document>")
        if styles is not None:
            archive.writestr("word/styles.xml", f"<w:styles {namespace}>{styles}</w:styles>")
    return path


def paragraph(text: str, *, style: str | None = None, before: str = "") -> str:
    properties = f'<w:pPr><w:pStyle w:val="{style}"/></w:pPr>' if style else ""
    return f"<w:p>{properties}<w:r>{before}<w:t>{text}</w:t></w:r></w:p>"


def test_word_pages_follow_the_rendered_page_marks_and_hard_breaks(tmp_path: Path) -> None:
    rendered = "<w:lastRenderedPageBreak/>"
    hard = '<w:br w:type="page"/>'
    body = (
        paragraph("Page one.")
        + paragraph("Still page one.", before="")
        + f"<w:p><w:r><w:t>End of one,</w:t></w:r><w:r>{rendered}<w:t> start of two.</w:t></w:r></w:p>"
        + f"<w:p><w:r><w:t>Two.</w:t>{hard}</w:r></w:p>"
        + paragraph("Three, after a hard break and its rendered mark.", before=rendered)
    )
    document = load(build_docx(tmp_path / "pages.docx", body))

    assert [(s.page, s.text) for s in document.sections] == [
        (1, "Page one.\n\nStill page one.\n\nEnd of one,"),
        (2, "start of two.\n\nTwo."),
        (3, "Three, after a hard break and its rendered mark."),
    ]
    assert document.pages == 3


def test_word_headings_come_from_style_names_and_outline_levels(tmp_path: Path) -> None:
    styles = (
        '<w:style w:type="paragraph" w:styleId="Kop1"><w:name w:val="heading 1"/></w:style>'
        '<w:style w:type="paragraph" w:styleId="Chapter"><w:name w:val="Chapter"/>'
        '<w:pPr><w:outlineLvl w:val="0"/></w:pPr></w:style>'
        '<w:style w:type="paragraph" w:styleId="MyChapter"><w:name w:val="My chapter"/>'
        '<w:basedOn w:val="Chapter"/></w:style>'
        '<w:style w:type="paragraph" w:styleId="Quote"><w:name w:val="Quote"/></w:style>'
    )
    body = (
        paragraph("Intro.")
        + paragraph("Localized", style="Kop1")
        + paragraph("Text one.")
        + paragraph("Inherited", style="MyChapter")
        + paragraph("Not a heading", style="Quote")
    )
    document = load(build_docx(tmp_path / "styles.docx", body, styles))

    assert [s.heading for s in document.sections] == [None, "Localized", "Inherited"]
    assert document.sections[2].text == "Inherited\n\nNot a heading"


def test_markdown_splits_at_headings_but_not_inside_code(tmp_path: Path) -> None:
    path = tmp_path / "notes.md"
    path.write_text("Preface.\n\n# Install\n\nRun it:\n\n```sh\n# not a heading\nmake\n```\n\n## Use ##\n\nAsk.\n")

    document = load(path)

    assert document.kind is DocumentKind.MARKDOWN
    assert [s.heading for s in document.sections] == [None, "Install", "Use"]
    assert "# not a heading" in document.sections[1].text
    assert document.sections[2].text == "## Use ##\n\nAsk.\n"


def test_text_in_utf16_with_a_bom_is_read(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes("Grüße aus Köln\r\nzweite Zeile".encode("utf-16"))

    document = load(path)

    assert document.kind is DocumentKind.TEXT
    assert document.sections[0].text == "Grüße aus Köln\nzweite Zeile"


def test_utf8_with_a_bom_loses_the_bom(tmp_path: Path) -> None:
    path = tmp_path / "notes.markdown"
    path.write_bytes("\ufeff# Título\n\nTexto.".encode())

    document = load(path)

    assert document.kind is DocumentKind.MARKDOWN
    assert document.sections[0].heading == "Título"
    assert document.sections[0].text.startswith("# Título")


# --- the awkward and the broken --------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("encrypted-rc4-user-password.pdf", "File with password"),
        ("encrypted-aes256-user-password.pdf", "The Crazy Ones"),
    ],
)
def test_a_password_protected_pdf_needs_its_password(name: str, text: str) -> None:
    error = refused(DOCS / "bad" / name)
    assert error.problem is Problem.ENCRYPTED
    assert name in str(error)
    assert "--password" in str(error)

    wrong = refused(DOCS / "bad" / name, password="not-it")
    assert wrong.problem is Problem.ENCRYPTED

    document = load(DOCS / "bad" / name, password="password")
    assert document.kind is DocumentKind.PDF
    assert text in document.sections[0].text


def test_a_copy_protected_pdf_opens_without_a_password() -> None:
    document = load(DOCS / "bad" / "encrypted-owner-only-readable.pdf")

    assert document.pages == 2
    assert "LayoutParser" in document.sections[0].text


def test_a_pdf_with_an_abruptly_ending_array_is_still_read() -> None:
    document = load(DOCS / "bad" / "malformed-array-abrupt-ending.pdf")

    assert "RNA structure comparison" in document.sections[0].text


def test_a_pdf_with_a_broken_xref_that_yields_nothing_is_corrupt() -> None:
    error = refused(DOCS / "bad" / "malformed-broken-xref.pdf")

    assert error.problem is Problem.CORRUPT
    assert "xref" in str(error)


def test_a_truncated_pdf_is_corrupt() -> None:
    error = refused(DOCS / "bad" / "truncated-dense-passage-retrieval-40pct.pdf")

    assert error.problem is Problem.CORRUPT
    assert "truncated-dense-passage-retrieval-40pct.pdf" in str(error)


def test_an_image_only_pdf_has_no_text_and_says_ocr_is_needed() -> None:
    error = refused(DOCS / "bad" / "scanned-image-only-no-text.pdf")

    assert error.problem is Problem.NO_TEXT
    assert "OCR" in str(error)


def test_a_fair_ocr_layer_is_not_flagged() -> None:
    document = load(DOCS / "bad" / "scanned-with-ocr-layer-vicksburg.pdf")

    assert document.pages == 6
    assert not document.low_quality
    assert document.warnings == []


def test_a_garbled_ocr_layer_is_indexed_but_flagged() -> None:
    document = load(DOCS / "bad" / "scanned-with-garbled-ocr.pdf")

    assert document.low_quality
    assert len(document.warnings) == 1
    assert "garbled" in document.warnings[0]
    assert "scanned-with-garbled-ocr.pdf" in document.warnings[0]


def test_text_that_is_mostly_not_words_is_flagged_as_garbled(tmp_path: Path) -> None:
    path = tmp_path / "ocr.txt"
    path.write_text(" ".join(["zq9#", "%%", "Water", "@@x", "7$k"] * 20))

    document = load(path)

    assert document.low_quality
    assert "ocr.txt" in document.warnings[0]


def test_a_password_protected_word_file_is_encrypted_and_says_to_save_it_without() -> None:
    error = refused(DOCS / "bad" / "encrypted-office-password.docx")

    assert error.problem is Problem.ENCRYPTED
    assert "password-protected Office document" in str(error)
    assert "without a password" in str(error)


def test_a_truncated_word_file_is_corrupt() -> None:
    error = refused(DOCS / "bad" / "truncated-handbook-1p-50pct.docx")

    assert error.problem is Problem.CORRUPT
    assert "truncated-handbook-1p-50pct.docx" in str(error)


def test_an_old_style_office_file_is_unsupported_not_encrypted(tmp_path: Path) -> None:
    path = tmp_path / "report.doc"
    path.write_bytes(bytes.fromhex("d0cf11e0a1b11ae1") + bytes(4096))

    error = refused(path)

    assert error.problem is Problem.UNSUPPORTED
    assert ".docx" in str(error)


# --- judged by content, within limits ---------------------------------------------------------


def test_a_pdf_named_txt_is_read_as_a_pdf(tmp_path: Path) -> None:
    path = tmp_path / "looks-like-notes.txt"
    shutil.copy(DOCS / "bad" / "malformed-array-abrupt-ending.pdf", path)

    document = load(path)

    assert document.kind is DocumentKind.PDF
    assert document.sections[0].page == 1


def test_a_picture_named_pdf_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8)

    error = refused(path)

    assert error.problem is Problem.UNSUPPORTED
    assert str(error).startswith("scan.pdf is not a PDF")


def test_a_zip_that_is_no_office_document_is_unsupported(tmp_path: Path) -> None:
    path = tmp_path / "archive.docx"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")

    assert refused(path).problem is Problem.UNSUPPORTED


def test_a_file_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.txt"
    path.write_text("word " * 1000)

    error = refused(path, max_bytes=1024)

    assert error.problem is Problem.TOO_LARGE
    assert str(error) == "big.txt is 4.9 KB, over the 1 KB limit; split it into smaller files"
    assert load(path, max_bytes=5000).kind is DocumentKind.TEXT


def test_an_archive_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    path = tmp_path / "bomb.docx"
    megabyte = bytes(1024 * 1024)
    with (
        zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as archive,
        archive.open("word/document.xml", "w") as member,
    ):
        for _ in range(24):  # 24 MiB of zeros pack into a few kilobytes
            member.write(megabyte)
    assert path.stat().st_size < 100_000

    error = refused(path)

    assert error.problem is Problem.ARCHIVE_BOMB
    assert "bomb.docx" in str(error)


def test_an_archive_unpacking_to_far_more_than_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "deck.pptx"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("ppt/presentation.xml", bytes(100_000))

    # 100 kB unpacked is over 20 times a 4 kB limit, though the file itself is within it.
    assert path.stat().st_size < 4096
    assert refused(path, max_bytes=4096).problem is Problem.ARCHIVE_BOMB


def test_an_empty_file_is_empty(tmp_path: Path) -> None:
    path = tmp_path / "nothing.txt"
    path.write_bytes(b"")

    error = refused(path)

    assert error.problem is Problem.EMPTY
    assert "nothing.txt" in str(error)


def test_a_missing_file_is_unreadable_and_the_message_is_a_sentence_naming_it(tmp_path: Path) -> None:
    error = refused(tmp_path / "gone.pdf")

    assert error.problem is Problem.UNREADABLE
    message = str(error)
    assert message.startswith("gone.pdf cannot be read (")
    assert "check that it exists" in message


def test_a_folder_is_unreadable(tmp_path: Path) -> None:
    assert refused(tmp_path).problem is Problem.UNREADABLE
