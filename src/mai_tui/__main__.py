from mai_tui.cli.main import run

run()
