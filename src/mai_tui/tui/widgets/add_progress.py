"""Adding files to a collection (or re-indexing it) in a thread, with its progress: this
file's chunks embedded, the files done overall, the file's name and the pages per second."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

from textual import work
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label, ProgressBar, Static

from mai_tui.core.chat.sanitize import inert
from mai_tui.core.knowledge.ingest import AddSummary, Outcome, Progress
from mai_tui.i18n import _, ngettext

Run = Callable[[Callable[[Progress], None], threading.Event], AddSummary]  # an add or a re-index


class AddProgress(Vertical):
    """Runs one add at a time; hidden when none runs. Its messages bubble up to the screen."""

    @dataclass
    class Progressed(Message):
        """A report from the worker thread (a copy: the worker moves on)."""

        progress: Progress

    @dataclass
    class Finished(Message):
        """The add is over: its summary, or the error that stopped it."""

        summary: AddSummary | None
        error: Exception | None

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.cancel: threading.Event | None = None  # set while an add runs

    @property
    def running(self) -> bool:
        return self.cancel is not None

    def compose(self) -> ComposeResult:
        yield Static("", id="add-current", markup=False)
        with Horizontal(classes="bar-row"):
            yield Label(_("This file"), classes="bar-label")
            yield ProgressBar(show_eta=False, id="add-file-bar")
        with Horizontal(classes="bar-row"):
            yield Label(_("Files"), classes="bar-label")
            yield ProgressBar(show_eta=False, id="add-files-bar")

    def on_mount(self) -> None:
        self.display = False

    def begin(self, run: Run, what: str) -> None:
        """Start `run` in a thread; `what` is the line until the first report."""
        self.cancel = threading.Event()
        self._line(what)
        self.display = True
        self._run(run, self.cancel)

    def stop(self) -> None:
        """Call the add off: the file being read is left as it was, the rest are not added."""
        if self.cancel is not None:
            self.cancel.set()
            self._line(_("Cancelling: the file being read is left as it was…"))

    def on_unmount(self) -> None:
        if self.cancel is not None:  # leaving (or quitting) calls off an add under way
            self.cancel.set()

    @work(thread=True, exclusive=True, group="kb-add", exit_on_error=False)
    def _run(self, run: Run, cancel: threading.Event) -> None:
        def report(progress: Progress) -> None:
            self.post_message(self.Progressed(replace(progress)))

        try:
            summary = run(report, cancel)
        except Exception as error:  # said by the screen, never a crash
            self.app.call_from_thread(self._finish, None, error)
            return
        self.app.call_from_thread(self._finish, summary, None)

    def _finish(self, summary: AddSummary | None, error: Exception | None) -> None:
        self.cancel = None
        self.display = False
        self.post_message(self.Finished(summary, error))

    def on_add_progress_progressed(self, message: Progressed) -> None:
        if self.cancel is not None and not self.cancel.is_set():
            self.show(message.progress)  # and on to the screen, which shows the file's row

    def _line(self, text: str) -> None:
        self.query_one("#add-current", Static).update(text)
        self.query_one("#add-file-bar", ProgressBar).update(total=None, progress=0)
        self.query_one("#add-files-bar", ProgressBar).update(total=None, progress=0)

    def show(self, progress: Progress) -> None:
        finished = progress.result is not None
        file_bar = self.query_one("#add-file-bar", ProgressBar)
        if finished:
            file_bar.update(total=1, progress=1)
        elif progress.chunks:
            file_bar.update(total=progress.chunks, progress=progress.chunks_done)
        else:
            file_bar.update(total=None, progress=0)  # reading the file: the number of chunks is not known yet
        self.query_one("#add-files-bar", ProgressBar).update(
            total=progress.files, progress=progress.file_index + (1 if finished else 0)
        )
        if finished:
            stage = _("done")
        elif not progress.pages:
            stage = _("reading…")
        elif not progress.chunks:  # read; the first batch of passages (and the model, once) is on its way
            stage = _("embedding…")
        elif progress.chunks_done < progress.chunks:
            stage = _("embedding {done} of {chunks} passages…").format(
                done=progress.chunks_done, chunks=progress.chunks
            )
        else:
            stage = _("storing…")
        line = _("File {n} of {files}: {file} · {stage}").format(
            n=progress.file_index + 1, files=progress.files, file=inert(progress.file.name), stage=stage
        )
        speed = pages_per_second(progress)
        if speed:
            line += " · " + _("{speed:.1f} pages/s").format(speed=speed)
        self.query_one("#add-current", Static).update(line + " · " + _("Esc cancels"))


def pages_per_second(progress: Progress) -> float:
    """Pages read and embedded per second so far, counting the current file's embedded share."""
    done = float(progress.pages_done_total)
    if progress.result is None and progress.chunks:
        done += progress.pages * progress.chunks_done / progress.chunks
    elapsed = time.monotonic() - progress.started
    return done / elapsed if elapsed > 0 else 0.0


def summary_line(summary: AddSummary) -> str:
    """`3 indexed · 1 unchanged · 0 skipped · 2 failed` (and how many the cancel left out)."""
    counts = {outcome: summary.count(outcome) for outcome in Outcome}
    parts = [
        ngettext("{n} indexed", "{n} indexed", counts[Outcome.INDEXED]),
        ngettext("{n} unchanged", "{n} unchanged", counts[Outcome.UNCHANGED]),
        ngettext("{n} skipped", "{n} skipped", counts[Outcome.SKIPPED]),
        ngettext("{n} failed", "{n} failed", counts[Outcome.FAILED]),
    ]
    numbers = [counts[Outcome.INDEXED], counts[Outcome.UNCHANGED], counts[Outcome.SKIPPED], counts[Outcome.FAILED]]
    line = " · ".join(part.format(n=n) for part, n in zip(parts, numbers, strict=True))
    if counts[Outcome.CANCELLED]:
        cancelled = counts[Outcome.CANCELLED]
        line += " · " + ngettext("{n} not added (cancelled)", "{n} not added (cancelled)", cancelled).format(
            n=cancelled
        )
    return line
