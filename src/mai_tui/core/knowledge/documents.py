"""What the knowledge base passes around: a loaded document, its chunks, and why a file failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from mai_tui.core.errors import MaiError


class DocumentKind(StrEnum):
    PDF = "pdf"
    PPTX = "pptx"
    DOCX = "docx"
    TEXT = "text"
    MARKDOWN = "markdown"


class Problem(StrEnum):
    """Why a file could not be indexed (stored with the document, shown to the user)."""

    ENCRYPTED = "encrypted"  # needs a password (none given, or the one given is wrong)
    NO_TEXT = "no_text"  # e.g. a scanned PDF without a text layer: OCR would be needed
    CORRUPT = "corrupt"  # truncated, broken structure
    TOO_LARGE = "too_large"  # over the size limit
    ARCHIVE_BOMB = "archive_bomb"  # an Office file that would unpack to far more than its size
    UNSUPPORTED = "unsupported"  # not a PDF/PPTX/DOCX/text file, judged by its content
    EMPTY = "empty"
    UNREADABLE = "unreadable"  # the file itself cannot be read (missing, permissions)
    EMBEDDING = "embedding"  # the embedder failed (e.g. a provider embedding call)


class LoadError(MaiError):
    """A document that cannot be indexed; `str()` is a complete translated sentence."""

    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class Section:
    """A page (PDF), a slide (PPTX), or a stretch of a document under one heading."""

    text: str
    page: int | None = None  # 1-based page or slide number; None where the format has none
    heading: str | None = None  # the heading in force at the start of this section, where known


@dataclass
class LoadedDocument:
    path: Path
    kind: DocumentKind
    sections: list[Section]
    pages: int  # pages or slides in the file (1 for plain text)
    low_quality: bool = False  # the text looks like a garbled OCR layer: indexed, but flagged
    warnings: list[str] = field(default_factory=list)

    @property
    def characters(self) -> int:
        return sum(len(s.text) for s in self.sections)


@dataclass(frozen=True)
class Chunk:
    """A piece of a section, as embedded and searched. `start`/`end` index the section's text."""

    text: str
    page: int | None
    heading: str | None
    start: int
    end: int
