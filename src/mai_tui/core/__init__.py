"""The headless core: everything the app can do, without a terminal.

This package never imports textual or typer (tests/test_import_hygiene.py enforces it).
"""
