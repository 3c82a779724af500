"""Widgets of the TUI. They post intent messages; the app does the work."""
