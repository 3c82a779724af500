"""The one object every shell starts from: settings, paths, database, keys, current user."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from mai_tui.config import Settings, load_settings
from mai_tui.core.logs import setup_logging
from mai_tui.core.secrets import SecretStore
from mai_tui.i18n import set_language
from mai_tui.locations import Paths

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlmodel import Session

    from mai_tui.core.store.models import User


@dataclass
class AppContext:
    settings: Settings
    paths: Paths
    _engine: Engine | None = field(default=None, repr=False)

    @property
    def database_url(self) -> str:
        from mai_tui.core.store.engine import resolve_database_url

        return resolve_database_url(self.settings.database_url, self.paths.database_file)

    @property
    def secrets(self) -> SecretStore:
        return SecretStore(self.paths.secrets_file, tuple(self.settings.providers.custom))

    def engine(self) -> Engine:
        """The database engine, migrated to the newest schema on first use."""
        if self._engine is None:
            from mai_tui.core.store.engine import get_engine
            from mai_tui.core.store.migrate import ensure_current

            engine = get_engine(self.database_url)
            ensure_current(engine)
            self._engine = engine
        return self._engine

    @contextmanager
    def session(self, *, write: bool = True) -> Iterator[Session]:
        """A database session that commits on success (`write=False`: a reader that never waits)."""
        from mai_tui.core.store.engine import session_scope

        with session_scope(self.engine(), write=write) as session:
            yield session

    def current_user(self, session: Session) -> User:
        """The user running the app, created on first sight (see DESIGN.md "Who is the user")."""
        from mai_tui.core.accounts import current_user_name, ensure_user

        return ensure_user(session, current_user_name())


def load_context() -> AppContext:
    """Read the settings, set up logging and the language; the database opens on first use."""
    settings = load_settings()
    paths = Paths.from_environment()
    # Model libraries (huggingface_hub) read this variable: nothing is downloaded unless allowed.
    os.environ["HF_HUB_OFFLINE"] = "1" if settings.hf_hub_offline else "0"
    setup_logging(paths.log_file, settings.log_level)
    set_language(settings.language)
    return AppContext(settings, paths)
