"""How `mai kb add` and `mai kb reindex` show their work: progress on stderr, then a summary.

The add runs in a worker thread, so Ctrl+C reaches the command at once: the add is told to
stop, the file being indexed is left as it was (old version or nothing), and the summary
shows what was done before the exit (130).
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from mai_tui.cli.output import print_json, say, warn
from mai_tui.i18n import _, ngettext

if TYPE_CHECKING:
    from rich.progress import Progress as Bars
    from rich.progress import TaskID

    from mai_tui.core.knowledge.ingest import AddSummary, FileResult, Outcome, Progress


def _pages(n: int, *, slides: bool = False) -> str:
    if slides:
        return ngettext("{n} slide", "{n} slides", n).format(n=n)
    return ngettext("{n} page", "{n} pages", n).format(n=n)


def _chunks(n: int) -> str:
    return ngettext("{n} chunk", "{n} chunks", n).format(n=n)


def _label(outcome: Outcome) -> str:
    from mai_tui.core.knowledge.ingest import Outcome

    return {
        Outcome.INDEXED: _("indexed"),
        Outcome.UNCHANGED: _("unchanged"),
        Outcome.SKIPPED: _("skipped"),
        Outcome.FAILED: _("failed"),
        Outcome.CANCELLED: _("cancelled"),
    }[outcome]


def _reason(result: FileResult) -> str:
    """The file's name and why it was not indexed (the core's sentence usually names the file)."""
    message = result.message or _label(result.outcome)
    return message if result.path.name in message else f"{result.path.name}: {message}"


def _line(result: FileResult) -> str:
    """One finished file, for the progress log."""
    from mai_tui.core.knowledge.ingest import Outcome

    label = _label(result.outcome)
    if result.outcome is Outcome.INDEXED:
        slides = result.path.suffix.lower() == ".pptx"
        text = _("{label}: {file} ({pages}, {chunks}, {seconds} s)").format(
            label=label,
            file=result.path.name,
            pages=_pages(result.pages, slides=slides),
            chunks=_chunks(result.chunks),
            seconds=f"{result.seconds:.1f}",
        )
        if result.low_quality:
            text += " " + _("(low-quality text)")
        return text
    if result.outcome in (Outcome.FAILED, Outcome.SKIPPED):
        return _("{label}: {reason}").format(label=label, reason=_reason(result))
    return _("{label}: {file}").format(label=label, file=result.path.name)


class Display:
    """An add's progress on stderr: Rich bars at a terminal, else one line per finished file."""

    def __init__(self) -> None:
        self.live = sys.stderr.isatty()
        self.bars: Bars | None = None
        self.overall: TaskID | None = None
        self.current: TaskID | None = None  # the file being added
        self.file: Path | None = None

    def __enter__(self) -> Display:
        if self.live:
            from rich.console import Console
            from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

            self.bars = Progress(
                TextColumn("{task.description}", markup=False),
                BarColumn(),
                TextColumn("{task.fields[detail]}", markup=False),
                TimeElapsedColumn(),
                console=Console(stderr=True, markup=False, emoji=False, highlight=False),
                transient=True,
            )
            self.bars.start()
            self.overall = self.bars.add_task(_("all files"), total=None, detail="")
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.bars is not None:
            self.bars.stop()

    def __call__(self, progress: Progress) -> None:
        if progress.result is not None:
            self._log(_line(progress.result))
        if self.bars is None or self.overall is None:
            return
        done = progress.file_index + (progress.result is not None)
        self.bars.update(
            self.overall,
            total=progress.files,
            completed=done,
            detail=_("{done}/{files} files · {rate} pages/s").format(
                done=done, files=progress.files, rate=f"{progress.pages_per_second:.1f}"
            ),
        )
        if self.current is not None and (progress.result is not None or progress.file != self.file):
            self.bars.remove_task(self.current)
            self.current = None
        if progress.result is not None:
            return
        if self.current is None:
            self.file = progress.file
            self.current = self.bars.add_task(progress.file.name, total=None, detail=_("reading…"))
        if progress.chunks:
            pages = _pages(progress.pages, slides=progress.file.suffix.lower() == ".pptx")
            self.bars.update(
                self.current,
                total=progress.chunks,
                completed=progress.chunks_done,
                detail=_("{pages} · {done}/{chunks} chunks embedded").format(
                    pages=pages, done=progress.chunks_done, chunks=progress.chunks
                ),
            )

    def _log(self, line: str) -> None:
        if self.bars is not None:
            self.bars.console.print(line)
        else:
            warn(line)


def in_worker(work: Callable[[], AddSummary], cancel: threading.Event) -> tuple[AddSummary, bool]:
    """`work()` in a thread; the first Ctrl+C asks it to stop and waits, a second one leaves at once."""
    outcome: dict[str, Any] = {}
    finished = threading.Event()

    def target() -> None:
        try:
            outcome["value"] = work()
        except BaseException as error:  # handed to the waiting thread, re-raised there
            outcome["error"] = error
        finally:
            finished.set()

    threading.Thread(target=target, name="mai-kb-add", daemon=True).start()
    interrupted = False
    while not finished.is_set():
        try:
            # Not Thread.join(): on Python 3.11 a join cut short by Ctrl+C marks the thread as ended.
            finished.wait()  # interruptible: Ctrl+C lands here without delay
        except KeyboardInterrupt:
            if interrupted:
                raise
            interrupted = True
            cancel.set()
            warn(_("Stopping after the current step; Ctrl+C again leaves at once."))
    if "error" in outcome:
        raise outcome["error"]
    summary: AddSummary = outcome["value"]
    return summary, interrupted


def _result_json(result: FileResult) -> dict[str, Any]:
    return {
        "file": result.path.name,
        "path": str(result.path),
        "outcome": result.outcome.value,
        "problem": result.problem.value if result.problem else None,
        "message": result.message,
        "pages": result.pages,
        "chunks": result.chunks,
        "seconds": round(result.seconds, 3),
        "low_quality": result.low_quality,
    }


def report(name: str, summary: AddSummary, *, json_out: bool, interrupted: bool) -> None:
    """The summary of an add or re-index; exit 1 if a file failed, 130 if interrupted."""
    from mai_tui.core.knowledge.ingest import Outcome

    counts = {outcome.value: summary.count(outcome) for outcome in Outcome}
    if json_out:
        print_json(
            {
                "collection": name,
                **counts,
                "pages": summary.pages,
                "chunks": summary.chunks,
                "seconds": round(summary.seconds, 3),
                "interrupted": interrupted,
                "files": [_result_json(r) for r in summary.results],
            }
        )
    else:
        say(
            _(
                "{indexed} indexed, {unchanged} unchanged, {skipped} skipped, {failed} failed "
                "({pages}, {chunks} in {seconds} s)."
            ).format(
                **counts,
                pages=_pages(summary.pages),
                chunks=_chunks(summary.chunks),
                seconds=f"{summary.seconds:.1f}",
            )
        )
        for outcome, title in ((Outcome.FAILED, _("Failed:")), (Outcome.SKIPPED, _("Skipped:"))):
            results = [r for r in summary.results if r.outcome is outcome]
            if results:
                say(title)
                for result in results:
                    say(f"  {_reason(result)}")
        low = [r for r in summary.results if r.outcome is Outcome.INDEXED and r.low_quality]
        if low:
            say(_("Low-quality text (garbled OCR?): indexed, but searches may miss or misquote it:"))
            for result in low:
                say(f"  {result.path.name}")
        if counts[Outcome.CANCELLED.value]:
            say(
                ngettext(
                    "Cancelled: {n} file was not added.", "Cancelled: {n} files were not added.", counts["cancelled"]
                ).format(n=counts["cancelled"])
            )
    sys.stdout.flush()
    if interrupted:
        raise typer.Exit(130)
    if summary.failed:
        raise typer.Exit(1)
