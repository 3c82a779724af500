from mai_tui.cli import run

run()
