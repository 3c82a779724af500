"""The `mai` command line: thin Typer wrappers over `mai_tui.core`.

Modules here import the core inside command functions, so `mai --help` stays fast.
"""
