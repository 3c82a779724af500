"""`mai kb create|add|list|query|ask|remove|reindex`: the offline knowledge base.

How adding shows its progress and summary (and stops on Ctrl+C) is in `kb_progress`.
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from mai_tui.cli.kb_progress import Display, in_worker, report
from mai_tui.cli.output import confirm, context, print_json, print_table, say, signed_in, warn
from mai_tui.i18n import _, ngettext

if TYPE_CHECKING:
    from mai_tui.core.context import AppContext
    from mai_tui.core.store.models import KnowledgeCollection, KnowledgeDocument

app = typer.Typer(help=_("Knowledge base: collections of your documents, searched offline."), no_args_is_help=True)

Name = Annotated[str, typer.Argument(metavar="NAME", help=_("The collection's name."))]
JsonOut = Annotated[bool, typer.Option("--json", help=_("Print JSON."))]
Password = Annotated[
    bool,
    typer.Option("--password", help=_("Ask for the password of encrypted PDFs (hidden prompt, or one line on stdin).")),
]
Embedder = Annotated[
    str | None,
    typer.Option(
        "--embedder",
        help=_("Embedding model: minilm, e5-multilingual, openai:MODEL … (default: the knowledge.embedder setting)."),
    ),
]


# --- shared -------------------------------------------------------------------------------


def _read_password() -> str:
    """From a no-echo prompt at a terminal, else the first line of standard input; never from argv."""
    from mai_tui.core.errors import InvalidInput

    if sys.stdin.isatty():
        password = str(typer.prompt(_("Password"), hide_input=True))
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if not password:
        raise InvalidInput(_("no password given"))
    return password


def _size(size: int) -> str:
    value = float(size)
    for unit in ("B", "KB", "MB", "GB"):
        if value < 1024 or unit == "GB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} GB"  # pragma: no cover


def _local(when: Any) -> str | None:
    """A stored UTC time in the local timezone, for people."""
    return None if when is None else str(when.astimezone().strftime("%Y-%m-%d %H:%M"))


def _mismatch(ctx: AppContext, collection: KnowledgeCollection) -> None:
    from mai_tui.core.knowledge.manage import embedder_mismatch

    note = embedder_mismatch(ctx, collection)
    if note:
        warn(_("Note: {note}").format(note=note))


# --- commands -----------------------------------------------------------------------------


@app.command("create", help=_("Create an empty collection."))
def create(
    name: Name,
    embedder: Embedder = None,
    description: Annotated[str | None, typer.Option("--description", help=_("What the collection holds."))] = None,
) -> None:
    from mai_tui.core.knowledge.manage import create_collection

    collection = create_collection(context(), name, embedder=embedder, description=description)
    say(
        _("Created the collection '{name}' (embedder {embedder}). Add files with:  mai kb add {name} FILE…").format(
            name=collection.name, embedder=collection.embedder
        )
    )


ADD_HELP = _(
    "Add files (PDF, PPTX, DOCX, TXT, MD) or, with -r, folders. A file already indexed with the same "
    "content is left alone; a changed file is indexed again. Progress goes to stderr; then a summary "
    "(--json: one object with a result per file). Exit 1 if a file failed; Ctrl+C stops cleanly (130)."
)


@app.command("add", help=ADD_HELP)
def add(
    name: Name,
    paths: Annotated[list[Path], typer.Argument(metavar="PATH…", help=_("Files or folders."), show_default=False)],
    recursive: Annotated[bool, typer.Option("-r", "--recursive", help=_("Add the files in folders."))] = False,
    password: Password = False,
    json_out: JsonOut = False,
) -> None:
    from mai_tui.core.knowledge.ingest import Ingest
    from mai_tui.core.knowledge.manage import check_paths

    check_paths(paths)
    cancel = threading.Event()
    display = Display()
    ingest = Ingest(context(), name, on_progress=display, cancel=cancel)  # checks the name and your rights first
    ingest.password = _read_password() if password else None
    with display:
        summary, interrupted = in_worker(lambda: ingest.run(paths, recursive=recursive), cancel)
    report(ingest.collection.name, summary, json_out=json_out, interrupted=interrupted)


def _collection_json(info: Any) -> dict[str, Any]:
    collection = info.collection
    return {
        "name": collection.name,
        "description": collection.description,
        "embedder": collection.embedder,
        "documents": info.documents,
        "indexed": info.indexed,
        "failed": info.failed,
        "chunks": info.chunks,
        "pages": info.pages,
        "created_at": collection.created_at,
        "updated_at": collection.updated_at,
    }


def _document_json(document: KnowledgeDocument) -> dict[str, Any]:
    return {
        "name": document.name,
        "path": document.path,
        "status": document.status,
        "kind": document.kind,
        "pages": document.pages,
        "chunks": document.chunks,
        "size_bytes": document.size_bytes,
        "indexed_at": document.indexed_at,
        "problem": document.problem,
        "error": document.error,
        "low_quality": document.low_quality,
        "embedder": document.embedder,
    }


@app.command(
    "list",
    help=_(
        "Without NAME: every collection with its counts. With NAME: its documents, with their status "
        "and, for failed ones, the reason."
    ),
)
def list_(
    name: Annotated[str | None, typer.Argument(metavar="NAME", help=_("A collection."), show_default=False)] = None,
    json_out: JsonOut = False,
) -> None:
    from mai_tui.core.knowledge import manage

    ctx = context()
    if name is None:
        infos = manage.overview(ctx)
        for info in infos:
            _mismatch(ctx, info.collection)
        if json_out:
            print_json([_collection_json(info) for info in infos])
            return
        if not infos:
            say(_("No collections yet: create one with  mai kb create NAME"))
            return
        print_table(
            [_("name"), _("embedder"), _("documents"), _("indexed"), _("failed"), _("chunks"), _("pages")],
            [
                (i.collection.name, i.collection.embedder, i.documents, i.indexed, i.failed, i.chunks, i.pages)
                for i in infos
            ],
        )
        return
    listing = manage.listing(ctx, name)
    _mismatch(ctx, listing.collection)
    if json_out:
        info = next(i for i in manage.overview(ctx) if i.collection.id == listing.collection.id)
        print_json({"collection": _collection_json(info), "documents": [_document_json(d) for d in listing.documents]})
        return
    rows = []
    for document in listing.documents:
        status = document.status + (" " + _("(low-quality text)") if document.low_quality else "")
        rows.append(
            (
                document.name,
                status,
                document.kind,
                document.pages or None,
                document.chunks,
                _size(document.size_bytes),
                _local(document.indexed_at),
                document.error,
            )
        )
    title = listing.collection.name + (f" — {listing.collection.description}" if listing.collection.description else "")
    if not rows:
        say(_("'{name}' has no documents yet: add some with  mai kb add {name} FILE…").format(name=name))
        return
    print_table(
        [_("file"), _("status"), _("kind"), _("pages"), _("chunks"), _("size"), _("indexed"), _("reason")],
        rows,
        title=title,
    )


@app.command(
    "query",
    help=_(
        "Search a collection, without any language model. --json: a list of passages with "
        "file, page, slide, heading, score and text."
    ),
)
def query(
    name: Name,
    question: Annotated[str, typer.Argument(metavar="QUESTION", help=_("What to look for."))],
    k: Annotated[
        int | None,
        typer.Option("-k", min=1, max=100, help=_("How many passages (default: knowledge.top_k).")),
    ] = None,
    mode: Annotated[
        str, typer.Option("--mode", help=_("hybrid (default), vector (meaning) or text (words, BM25)."))
    ] = "hybrid",
    min_score: Annotated[
        float | None,
        typer.Option("--min-score", help=_("Leave out passages less similar than this (cosine, -1 to 1).")),
    ] = None,
    json_out: JsonOut = False,
) -> None:
    from mai_tui.core.errors import InvalidInput
    from mai_tui.core.knowledge.retrieval import Mode, scopes_for, search

    try:
        chosen = Mode(mode)
    except ValueError:
        raise InvalidInput(_("unknown search mode '{mode}': use hybrid, vector or text").format(mode=mode)) from None
    ctx = context()
    scopes = scopes_for(ctx, [name])
    passages = search(ctx, scopes, question, k=k, mode=chosen, min_score=min_score)
    if json_out:
        print_json([p.as_json() for p in passages])
        return
    if not passages:
        warn(_("No passage matches."))
        return
    blocks = []
    for n, passage in enumerate(passages, 1):
        head = f"[{n}] {passage.location()}" + (f" — {passage.heading}" if passage.heading else "")
        score = _("score {score}").format(score=passage.score)
        if passage.similarity is not None and chosen is not Mode.VECTOR:
            score += " · " + _("similarity {similarity}").format(similarity=passage.similarity)
        if passage.low_quality:
            score += " · " + _("(low-quality text)")
        body = "\n".join(("    " + line).rstrip() for line in passage.text.strip().splitlines())
        blocks.append(f"{head}  ({score})\n{body}")
    say("\n\n".join(blocks))


@app.command(
    "ask",
    help=_(
        "Ask a question answered from a collection: the answer streams, then its sources, "
        "✓ marking those it cites. --json adds citations: [{n, cited, file, page, slide, heading, text, …}]."
    ),
)
def ask(
    name: Name,
    question: Annotated[str, typer.Argument(metavar="QUESTION", help=_("The question."))],
    model: Annotated[
        str | None, typer.Option("-m", "--model", help=_("PROVIDER/MODEL (default: default_model)."))
    ] = None,
    k: Annotated[
        int | None,
        typer.Option("-k", min=1, max=100, help=_("How many passages (default: knowledge.top_k).")),
    ] = None,
    json_out: JsonOut = False,
) -> None:
    from mai_tui.cli.ask import answer

    answer(question, model=model, json_out=json_out, knowledge=[name], k=k)


@app.command(
    "remove",
    help=_(
        "Remove a collection with all its documents (asks first, unless --yes), or only FILE "
        "(a file name or the path it was added from)."
    ),
)
def remove(
    name: Name,
    file: Annotated[str | None, typer.Argument(metavar="FILE", help=_("A document of the collection."))] = None,
    yes: Annotated[bool, typer.Option("--yes", help=_("Do not ask for confirmation."))] = False,
) -> None:
    from mai_tui.core.knowledge import collections, manage

    with signed_in() as (ctx, session, actor):
        collections.require_can_change(actor, collections.get(session, name))  # before asking anything
    if file is not None:
        for document in manage.remove_documents(ctx, name, file):
            say(
                _("Removed {file} ({chunks} chunks) from '{name}'.").format(
                    file=document.path, chunks=document.chunks, name=name
                )
            )
        return
    listing = manage.listing(ctx, name)
    count = len(listing.documents)
    confirm(
        ngettext(
            "Remove the collection '{name}' and its {n} document?",
            "Remove the collection '{name}' and its {n} documents?",
            count,
        ).format(name=name, n=count),
        yes,
    )
    removed = manage.remove_collection(ctx, name)
    chunks = sum(d.chunks for d in removed.documents)
    say(
        ngettext(
            "Removed the collection '{name}': {n} document, {chunks} chunks.",
            "Removed the collection '{name}': {n} documents, {chunks} chunks.",
            len(removed.documents),
        ).format(name=removed.collection.name, n=len(removed.documents), chunks=chunks)
    )


@app.command(
    "reindex",
    help=_(
        "Read every document of a collection again. With --embedder, switch the collection to that "
        "model: every document is embedded again. Same output and exit codes as add."
    ),
)
def reindex(
    name: Name,
    embedder: Annotated[
        str | None, typer.Option("--embedder", help=_("Switch to this embedding model (see kb create)."))
    ] = None,
    password: Password = False,
    json_out: JsonOut = False,
) -> None:
    from mai_tui.core.knowledge import collections, manage
    from mai_tui.core.knowledge.embedders import get_embedder

    with signed_in() as (ctx, session, actor):
        collection = collections.get(session, name)
        collections.require_can_change(actor, collection)  # before asking anything
    if embedder is not None and embedder != collection.embedder:
        get_embedder(embedder, settings=ctx.settings, secrets=ctx.secrets)  # refuses an unknown name
        warn(
            _("Switching '{name}' from {old} to {new}: every document is embedded again.").format(
                name=name, old=collection.embedder, new=embedder
            )
        )
    secret = _read_password() if password else None
    cancel = threading.Event()
    with Display() as display:
        summary, interrupted = in_worker(
            lambda: manage.reindex(ctx, name, embedder=embedder, on_progress=display, password=secret, cancel=cancel),
            cancel,
        )
    report(name, summary, json_out=json_out, interrupted=interrupted)
