"""The `mai` command line: thin Typer wrappers over `mai_tui.core`.

`run()` is the console script. With no arguments it opens the TUI without importing Typer,
and the command modules import the core inside their functions, so both the first frame
and `mai --help` stay fast.
"""

from __future__ import annotations

import os
import sys


def launch_tui() -> None:
    from mai_tui.i18n import set_language
    from mai_tui.locations import peek

    set_language(peek("language", "") or None)  # before the app module builds its key bindings
    from mai_tui.tui.app import MaiApp

    app = MaiApp()
    app.run()
    if app.return_code:
        sys.exit(app.return_code)


def main() -> None:
    """The console script: `run()`, then leave without the interpreter's teardown, which
    spends ~0.4 s freeing the provider SDKs' modules after the work is done."""
    code = 0
    try:
        run()
    except SystemExit as exit_:
        code = exit_.code if isinstance(exit_.code, int) else 0 if exit_.code is None else 1
    finally:
        _leave(code)


def _leave(code: int) -> None:
    import logging
    from contextlib import suppress

    for stream in (sys.stdout, sys.stderr):
        with suppress(BrokenPipeError, ValueError):
            stream.flush()
    logging.shutdown()
    engine_module = sys.modules.get("mai_tui.core.store.engine")
    if engine_module is not None:
        engine_module.dispose_engines()  # close SQLite cleanly (checkpoints the WAL)
    os._exit(code)


def run() -> None:
    """Clean one-line errors and the documented exit codes (tests call this directly)."""
    from mai_tui.core.errors import MaiError
    from mai_tui.i18n import _

    try:
        if len(sys.argv) == 1 and "_MAI_COMPLETE" not in os.environ:
            launch_tui()  # no parsing needed: the fastest path to the first frame
        else:
            _run_commands()
    except MaiError as error:
        sys.stderr.write(f"mai: {error}\n")
        sys.exit(error.exit_code)
    except KeyboardInterrupt:
        sys.stderr.write(_("mai: interrupted") + "\n")
        sys.exit(130)
    except Exception as error:  # a bug or an unforeseen failure: one line here, details in the log
        import logging

        from mai_tui.core.logs import redact

        logging.getLogger("mai_tui").exception("unexpected error")
        reason = redact(f"{type(error).__name__}: {error}".splitlines()[0])
        message = _("mai: unexpected error: {reason} (details in the log: mai config path)")
        sys.stderr.write(message.format(reason=reason) + "\n")
        sys.exit(1)


def _run_commands() -> None:
    import typer

    from mai_tui.cli.main import app
    from mai_tui.i18n import _

    try:
        # Without standalone mode Typer hands exceptions to us, and returns the code
        # of a `typer.Exit` raised inside a command instead of exiting.
        code = app(standalone_mode=False)
    except typer.Exit as error:
        code = error.exit_code
    except typer.Abort:
        sys.stderr.write(_("mai: interrupted") + "\n")
        sys.exit(130)
    except typer.TyperException as error:  # wrong usage: Typer's own message, exit 2
        show = getattr(error, "show", None)
        if show is not None:
            show()
        else:
            sys.stderr.write(f"mai: {error}\n")
        sys.exit(error.exit_code)
    if code == 130:  # Typer turns Ctrl+C into exit code 130
        sys.stderr.write(_("mai: interrupted") + "\n")
    if isinstance(code, int) and code:
        sys.exit(code)
