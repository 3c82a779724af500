"""Answers from documents: `#name` references in a prompt, the prompt with numbered sources,
and the citations stored with the answer (each `[n]` maps to a file and page or slide)."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlmodel import Session, col, select

from mai_tui.core.context import AppContext
from mai_tui.core.knowledge.collections import find as find_collection
from mai_tui.core.knowledge.retrieval import Passage, Scope, scopes_for, search
from mai_tui.core.store.models import KnowledgeCollection, KnowledgeDocument

# Sent to the model, not shown to the user: kept in English, which every model reads; the
# model is asked to answer in the question's language.
RAG_TEMPLATE = """Answer the question using the numbered sources below.
- Cite every source you use by its number in square brackets, e.g. [1] or [2][3], after the statement it supports.
- If the sources do not contain the answer, say so plainly; do not make one up.
- Answer in the language of the question.

<sources>
{sources}
</sources>

Question: {question}"""

# `#name` at the start of the text or after a space or an opening bracket: not in a URL's
# #fragment, not in `issue#4`.
_REFERENCE = re.compile(r"(?<![^\s(\[{\"'])#([\w][\w.\-]*)")
_CITED = re.compile(r"\[(\d{1,3})\]")


def build_prompt(question: str, passages: Sequence[Passage]) -> str:
    sources = "\n\n".join(
        f"[{n}] {p.location()}" + (f" — {p.heading}" if p.heading else "") + f"\n{p.text}"
        for n, p in enumerate(passages, 1)
    )
    return RAG_TEMPLATE.format(sources=sources, question=question.strip())


def citations_json(passages: Sequence[Passage]) -> str:
    return json.dumps([p.as_json() for p in passages], ensure_ascii=False)


def load_citations(stored: str | None) -> list[Passage]:
    """The passages stored with an answer (empty for answers without sources or unreadable data)."""
    if not stored:
        return []
    try:
        items = json.loads(stored)
        passages = []
        for item in items:
            page = item.get("slide") if item.get("slide") is not None else item.get("page")
            passages.append(
                Passage(
                    collection=item["collection"],
                    document_id=int(item["document_id"]),
                    file=item["file"],
                    path=item["path"],
                    kind=item.get("kind"),
                    page=page,
                    heading=item.get("heading"),
                    text=item["text"],
                    start=int(item.get("start", 0)),
                    end=int(item.get("end", 0)),
                    score=float(item.get("score", 0.0)),
                    similarity=item.get("similarity"),
                    low_quality=bool(item.get("low_quality", False)),
                )
            )
        return passages
    except (ValueError, KeyError, TypeError, AttributeError):
        return []


def cited(answer: str, count: int) -> list[int]:
    """The source numbers `answer` cites, in order of first mention (only 1..count)."""
    seen: list[int] = []
    for match in _CITED.finditer(answer):
        number = int(match.group(1))
        if 1 <= number <= count and number not in seen:
            seen.append(number)
    return seen


@dataclass
class References:
    """What `#…` in a prompt points at."""

    collections: list[str] = field(default_factory=list)
    files: list[tuple[str, int, str]] = field(default_factory=list)  # (collection, document id, file name)
    question: str = ""  # the prompt without the references

    def __bool__(self) -> bool:
        return bool(self.collections or self.files)

    def names(self) -> list[str]:
        return [*self.collections, *(f for _c, _d, f in self.files)]


def parse_references(session: Session, text: str) -> References:
    """`#collection` and `#file.pdf` in `text`; other `#words` stay as they are."""
    names = {c.name.lower(): c for c in session.exec(select(KnowledgeCollection)).all()}
    refs = References()
    kept: list[str] = []
    position = 0
    for match in _REFERENCE.finditer(text):
        word = match.group(1).rstrip(".,;:!?")
        found = _resolve(session, names, word)
        if found is None:
            continue
        kept.append(text[position : match.start()])
        position = match.start() + 1 + len(word)
        if isinstance(found, KnowledgeCollection):
            if found.name not in refs.collections:
                refs.collections.append(found.name)
        else:
            collection, document = found
            entry = (collection, document.id or 0, document.name)
            if entry not in refs.files:
                refs.files.append(entry)
    kept.append(text[position:])
    refs.question = re.sub(r"[ \t]{2,}", " ", "".join(kept)).strip()
    return refs


def _resolve(
    session: Session, collections: dict[str, KnowledgeCollection], word: str
) -> KnowledgeCollection | tuple[str, KnowledgeDocument] | None:
    if word.lower() in collections:
        return collections[word.lower()]
    document = session.exec(
        select(KnowledgeDocument)
        .where(KnowledgeDocument.name == word, col(KnowledgeDocument.indexed_version).is_not(None))
        .order_by(col(KnowledgeDocument.id))
    ).first()
    if document is None:
        return None
    collection = session.get(KnowledgeCollection, document.collection_id)
    return (collection.name, document) if collection is not None else None


def completions(session: Session, prefix: str, limit: int = 20) -> list[tuple[str, str]]:
    """Names to offer after `#prefix`: (name, what it is) for collections first, then files."""
    low = prefix.lower()
    found: list[tuple[str, str]] = []
    for collection in session.exec(select(KnowledgeCollection).order_by(col(KnowledgeCollection.name))).all():
        if collection.name.lower().startswith(low):
            found.append((collection.name, "collection"))
    seen = {name for name, _kind in found}
    searchable = col(KnowledgeDocument.indexed_version).is_not(None)
    for document in session.exec(
        select(KnowledgeDocument).where(searchable).order_by(col(KnowledgeDocument.name))
    ).all():
        if document.name.lower().startswith(low) and document.name not in seen and " " not in document.name:
            found.append((document.name, "file"))
            seen.add(document.name)
    return found[:limit]


@dataclass
class Retrieved:
    references: References
    passages: list[Passage]
    prompt: str  # what goes to the model for this turn

    def citations(self) -> str:
        return citations_json(self.passages)


def retrieve(context: AppContext, question: str, references: References, *, k: int | None = None) -> Retrieved:
    """Search what `references` name for `question` and build the prompt with the sources."""
    scopes: list[Scope] = scopes_for(context, references.collections, [(c, d) for c, d, _f in references.files])
    passages = search(context, scopes, question, k=k)
    return Retrieved(references, passages, build_prompt(question, passages))


def retrieve_for(
    context: AppContext, text: str, *, k: int | None = None, collection: str | None = None
) -> Retrieved | None:
    """For a prompt typed in chat: retrieval for its `#references`, or None if it has none.

    `collection`: the conversation's own collection (from its preset), searched for a prompt
    that names nothing with `#` (if it still exists).
    """
    with context.session(write=False) as session:
        references = parse_references(session, text)
        if not references and collection is not None:
            standing = find_collection(session, collection)
            if standing is not None:
                references = References(collections=[standing.name], question=text.strip())
    if not references:
        return None
    return retrieve(context, references.question or text, references, k=k)
