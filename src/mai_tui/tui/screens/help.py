"""The help screen (F1, palette "Help"): every key and palette command of the screen the user came
from, searchable, and a getting-started page that says what is set up and what to do next.

The keys are read from the bindings as they are now (the user's keymap applied, the focused
widget's own keys included), so the help never shows a key that does not do what it says.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from rich.cells import cell_len
from rich.text import Text
from textual import events, work
from textual.actions import parse as parse_action
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.keys import format_key
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Header, Input, Markdown, Static, TabbedContent, TabPane

from mai_tui.i18n import _, ngettext

if TYPE_CHECKING:
    from textual.dom import DOMNode

    from mai_tui.core.context import AppContext
    from mai_tui.core.providers.configured import ProviderSetup


@dataclass(frozen=True)
class KeyRow:
    """One line of the help: a key (empty for a palette-only command), what it does, and where."""

    key: str
    name: str
    description: str
    where: str

    def matches(self, text: str) -> bool:
        """Case-insensitive substring search over the key, the name, the description and where."""
        needle = text.strip().casefold()
        return any(needle in field.casefold() for field in (self.key, self.name, self.description, self.where))


def key_label(binding: Binding) -> str:
    """A key as a person reads it: Ctrl+N, Alt+C, Esc, F1, Del; a plain letter stays as typed (r)."""
    if binding.key_display:
        return binding.key_display
    modifiers, key = binding.parse_key()
    shown = format_key(key)
    if len(shown) > 1 and shown.isascii():
        shown = shown[:1].upper() + shown[1:]  # esc -> Esc, f5 -> F5, home -> Home
    elif modifiers:
        shown = shown.upper()  # ctrl+n -> Ctrl+N
    return "+".join([*(modifier.capitalize() for modifier in modifiers), shown])


def _textual_names() -> dict[str, tuple[str, str]]:
    """Names (translated) of Textual's own keys that have no id of ours, by action."""
    return {
        "command_palette": (_("Command palette"), _("Every command by name: type to search")),
        "app.focus_next": (_("Next field"), _("Move the focus to the next field")),
        "app.focus_previous": (_("Previous field"), _("Move the focus to the previous field")),
        "screen.copy_text": (_("Copy selected text"), _("Copy the text selected with the mouse")),
    }


def _bindings(app: App[Any], node: DOMNode) -> list[Binding]:
    """A node's bindings with the user's keymap applied (as the screen does for the focused chain)."""
    bindings = node._bindings.copy()
    if app._keymap:
        bindings.apply_keymap(app._keymap)
    return [binding for listed in bindings.key_to_bindings.values() for binding in listed]


def _area(node: DOMNode, binding: Binding, app: App[Any], screen: Screen[Any]) -> str:
    if node is app:
        return _("Everywhere")
    if node is screen:
        return _("This screen")
    areas = {"prompt": _("Prompt box"), "chats": _("Conversation list"), "path": _("Path box")}  # by binding id
    return areas.get((binding.id or "").partition(".")[0], _("Focused field"))


def key_rows(app: App[Any], screen: Screen[Any]) -> list[KeyRow]:
    """Every key of `screen` as it is bound now, then the palette commands no key stands for.

    The active bindings (focused widget, its containers, the screen, the app) come first; then the
    screen's keys the focused widget hides (they work once it lets go of the focus), the keys of the
    screen's other widgets that have their own (the conversation list beside the prompt box), and
    the app's priority keys on a modal screen. A key the screen disables now is left out."""
    textual = _textual_names()
    # (node, binding) -> (rank, node, order), name, description, where, keys
    found: dict[tuple[int, str], tuple[tuple[int, int, int], str, str, str, list[str]]] = {}
    declared: dict[int, list[str]] = {}  # node -> its binding ids in the order they are declared

    def add(node: DOMNode, binding: Binding) -> None:
        if binding.id is None and node is not app and node is not screen:
            return  # a widget's built-in editing keys (cursor, selection): not this app's
        name, description = textual.get(binding.action, (binding.description, binding.tooltip))
        if not name:
            return  # an unnamed helper key
        # the screen's keys first, then the widgets', then the app's; Textual's own (no id) last in each
        ours = declared.setdefault(id(node), [b.id for _key, b in node._bindings if b.id])
        order = ours.index(binding.id) if binding.id in ours else len(ours)
        rank = 2 if node is app else 0 if node is screen else 1
        entry = found.setdefault(
            (id(node), binding.id or binding.action),
            ((rank, list(declared).index(id(node)), order), name, description, _area(node, binding, app, screen), []),
        )
        label = key_label(binding)
        if label not in entry[4]:
            entry[4].append(label)

    active = screen.active_bindings
    for shown in active.values():
        add(shown.node, shown.binding)
    for binding in _bindings(app, screen):  # keys the focused widget takes for itself work elsewhere on the screen
        namespace, action, parameters = parse_action(binding.action)
        if namespace or screen.check_action(action, parameters) is not False:
            add(screen, binding)
    focused = screen.focused
    chain = {id(node) for node in (focused.ancestors_with_self if focused is not None else [screen, app])}
    for widget in screen.query("*"):
        if id(widget) not in chain and any(binding.id for _key, binding in widget._bindings):
            for binding in _bindings(app, widget):
                if binding.id:
                    add(widget, binding)
    if not any(shown.node is app for shown in active.values()):  # a modal screen: the app's priority keys
        for binding in _bindings(app, app):
            if binding.priority:
                add(app, binding)

    entries = sorted(found.values(), key=lambda entry: entry[0])
    commands = {command.title: command.help for command in app.get_system_commands(screen)}
    rows = []
    for _rank, name, description, where, keys in entries:
        if name in commands:  # the palette's words for what the key does
            description = description or commands.pop(name)
        rows.append(KeyRow(", ".join(keys), name, description, where))
    rows += [KeyRow("", title, text, _("Command palette")) for title, text in commands.items()]
    return rows


def chat_keys(app: App[Any], chat: Screen[Any]) -> dict[str, str]:
    """The chat's keys by binding id (or action, for Textual's own), for the getting-started page."""
    keys: dict[str, str] = {}
    for active in chat.active_bindings.values():
        keys.setdefault(active.binding.id or active.binding.action, key_label(active.binding))
    for widget in chat.query("*"):
        for binding in _bindings(app, widget):
            if binding.id:
                keys.setdefault(binding.id, key_label(binding))
    return keys


def _code(*lines: str) -> str:
    return "```\n" + "\n".join(lines) + "\n```"


def getting_started(setup: ProviderSetup | None, keys: Mapping[str, str], *, send_on_enter: bool = True) -> str:
    """The getting-started page (Markdown). `setup` None: not known yet (the app is still starting)."""

    def key(name: str) -> str:
        return f"`{keys.get(name, '?')}`"

    if setup is None or not setup.ready:
        lead = (
            _("To chat, mai needs a provider: a cloud service with an API key, or Ollama on this computer.")
            if setup is None
            else _("No provider is set up yet, so there is nothing to chat with.")
        )
        return "\n\n".join(
            [
                lead
                + " "
                + _("Quit ({quit}) or use another terminal, set one up as below, then start mai again.").format(
                    quit=key("app.quit")
                ),
                "**" + _("1. A cloud provider: store its API key") + "**",
                _code("mai keys set openrouter"),
                _(
                    "It is typed at a hidden prompt and kept in the OS keyring. OpenRouter reaches many models "
                    "with one key; {others} work the same way, and a key in the environment ({variables}, …) "
                    "is used too."
                ).format(others="`openai`, `anthropic`, `gemini`", variables="`OPENROUTER_API_KEY`"),
                "**" + _("2. Or a local model with Ollama") + "**",
                _code("mai config set providers.ollama.base_url http://127.0.0.1:11434"),
                _("or start mai with {variable} in the environment.").format(
                    variable="`OLLAMA_BASE_URL=http://127.0.0.1:11434`"
                ),
                "**" + _("3. Then choose the default model") + "**",
                _code("mai config set default_model openrouter/openai/gpt-4o-mini"),
                _(
                    "Models are named PROVIDER/MODEL, for example {example}; {list} shows them once a provider "
                    "is set up, and {doctor} checks the whole installation."
                ).format(example="`ollama/llama3.2`", list="`mai models list`", doctor="`mai doctor`"),
            ]
        )
    providers = ", ".join(f"**{name}**" for name in setup.configured)
    if setup.default_model and setup.default_provider_configured:
        default = _("Default model: {model}.").format(model=f"`{setup.default_model}`")
    elif setup.default_model:
        default = _("The default model {model} needs a provider that is not set up: {fix}").format(
            model=f"`{setup.default_model}`",
            fix=_("store its key, or choose another model on the models screen ({models}).").format(
                models=key("chat.models")
            ),
        )
    else:
        default = _(
            "No default model yet: choose one for this chat with {model}, or for good on the models screen "
            "({models}) or with {command}."
        ).format(model=key("chat.model"), models=key("chat.models"), command="`mai config set default_model …`")
    send = (
        _("Type a prompt and press Enter; {newline} starts a new line, {editor} opens it in your $EDITOR.")
        if send_on_enter
        else _("Type a prompt and press {newline} to send it; {editor} opens it in your $EDITOR.")
    ).format(newline=key("prompt.newline"), editor=key("prompt.editor"))
    steps = [
        send,
        _("{key} Knowledge: add your documents to a collection, then ask about them with #name in the prompt.").format(
            key=key("chat.knowledge")
        ),
        _("{key} Voice: speak a prompt; {key} again stops the recording and transcribes it.").format(
            key=key("chat.voice")
        ),
        _("{models} Models and presets, {model} the model of this chat, {compare} several models side by side.").format(
            models=key("chat.models"), model=key("chat.model"), compare=key("chat.compare")
        ),
        _("{key} Usage: what every call cost, per organization, against its limits.").format(key=key("chat.usage")),
        _("/ at the start of the prompt uses a saved prompt; {key} finds every command by name.").format(
            key=key("command_palette")
        ),
        _("Another provider: {command} (or openai, anthropic, gemini, openrouter).").format(command="`mai keys set …`"),
    ]
    return "\n\n".join(
        [
            _("Set up: {providers}.").format(providers=providers) + " " + default,
            "## " + _("Next steps"),
            "\n".join(f"- {step}" for step in steps),
        ]
    )


class HelpScreen(Screen[None]):
    CSS_PATH = "help.tcss"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "close", _("Close"), id="help.close"),
        Binding("ctrl+f", "search", _("Search"), id="help.search", show=False),
    ]

    def __init__(
        self,
        rows: list[KeyRow],
        keys: Mapping[str, str],
        context: AppContext | None,
        *,
        org: str | None = None,
        start: str = "keys",
    ) -> None:
        super().__init__()
        self.rows = rows
        self.keys = keys  # the chat's keys, for the getting-started page
        self.context = context
        self.org = org
        self.start = start  # "keys" or "start": the tab shown first

    def compose(self) -> ComposeResult:
        yield Header(show_clock=False, icon="◆")
        with TabbedContent(initial=self.start, id="help-tabs"):
            with TabPane(_("Keys"), id="keys"):
                yield Input(placeholder=_("Search keys and commands…"), id="help-search")
                yield DataTable(id="help-keys", cursor_type="row", zebra_stripes=True)
                yield Static("", id="help-count", markup=False)
            with TabPane(_("Getting started"), id="start"), VerticalScroll(id="help-start-scroll"):
                waiting = _("Reading what is set up…") if self.context is not None else None
                yield Markdown(waiting or getting_started(None, self.keys), id="help-start")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = _("Help")
        if self.start == "keys":
            self.query_one("#help-search", Input).focus()
        else:
            self.query_one("#help-start-scroll").focus()
        self.check_setup()

    @work(thread=True, exit_on_error=False)
    def check_setup(self) -> None:
        """What is set up (it reads the key store: off the UI thread)."""
        from mai_tui.core.providers.configured import provider_setup

        if self.context is None:
            return
        setup = provider_setup(self.context.settings, self.context.secrets, org=self.org)
        text = getting_started(setup, self.keys, send_on_enter=self.context.settings.send_on_enter)
        self.app.call_from_thread(self._show_start, text)

    def _show_start(self, text: str) -> None:
        if self.is_attached:  # the help may have been closed meanwhile
            self.query_one("#help-start", Markdown).update(text)

    # --- the keys table -------------------------------------------------------------------
    def on_resize(self, event: events.Resize) -> None:
        self.show_rows(self.query_one("#help-search", Input).value)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.show_rows(event.value)

    def show_rows(self, text: str) -> None:
        """The rows that match `text`, the description wrapped to the width left over."""
        rows = [row for row in self.rows if row.matches(text)]
        table = self.query_one("#help-keys", DataTable)
        table.clear(columns=True)
        widths = [
            max([cell_len(title), *(cell_len(getattr(row, field)) for row in rows)]) for title, field in self._columns()
        ]
        # each column has one cell of padding on both sides; two more for the scroll bar
        description = max(20, self.size.width - sum(widths) - 2 * (len(widths) + 1) - 4)
        for (title, _field), width in zip(self._columns(), widths, strict=True):
            table.add_column(title, width=width)
        table.add_column(_("Description"), width=description)
        for row in rows:
            cells = (row.key, row.name, row.where, row.description)
            table.add_row(*(Text(cell) for cell in cells), height=None)
        total = len(self.rows)
        self.query_one("#help-count", Static).update(
            ngettext("{n} key and command", "{n} keys and commands", total).format(n=total)
            if not text.strip()
            else _("{shown} of {total} match “{text}”").format(shown=len(rows), total=total, text=text.strip())
        )

    @staticmethod
    def _columns() -> Iterable[tuple[str, str]]:
        return ((_("Key"), "key"), (_("Name"), "name"), (_("Where"), "where"))

    # --- what the user does ---------------------------------------------------------------
    def action_search(self) -> None:
        self.query_one(TabbedContent).active = "keys"
        self.query_one("#help-search", Input).focus()

    def action_close(self) -> None:
        self.dismiss()
