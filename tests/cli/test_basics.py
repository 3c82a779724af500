"""`mai --version`, `--help`, `doctor`, `config`, `db upgrade` through the real entry point."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mai_tui import __version__
from mai_tui.locations import Paths
from tests.cli.conftest import Mai


def test_version_and_help(mai: Mai) -> None:
    result = mai("--version")
    assert (result.code, result.out) == (0, f"mai {__version__}\n")
    result = mai("--help")
    assert result.code == 0
    for command in ("doctor", "config", "keys", "db", "users", "orgs"):
        assert command in result.out
    assert "--install-completion" in result.out


def test_wrong_usage_exits_2(mai: Mai) -> None:
    result = mai("users", "frobnicate")
    assert result.code == 2
    assert "No such command" in result.err


def test_db_upgrade_then_nothing_to_do(mai: Mai) -> None:
    first = mai("db", "upgrade")
    assert first.code == 0
    assert "migrated" in first.out
    assert "already" in mai("db", "upgrade").out


def test_doctor_reports_every_area_as_json(mai: Mai) -> None:
    fresh = mai("doctor", "--json").json()
    [database] = [c for c in fresh["checks"] if c["area"] == "database"]
    assert database["status"] == "warn"  # the doctor looks, it does not create
    assert "mai db init" in database["detail"]
    assert mai("db", "init").code == 0
    result = mai("doctor", "--json")
    assert result.code == 0, result.out
    report = result.json()
    assert report["healthy"] is True
    areas = {check["area"] for check in report["checks"]}
    assert areas == {"config", "database", "usage", "knowledge", "keys", "folders", "audio", "models"}
    [database] = [c for c in report["checks"] if c["area"] == "database"]
    assert database["status"] == "ok"


def test_doctor_fails_with_exit_1_when_the_database_is_unreachable(mai: Mai, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    result = mai("doctor", "--json")
    assert result.code == 1
    [database] = [c for c in result.json()["checks"] if c["area"] == "database"]
    assert database["status"] == "fail"
    assert "cannot connect" in database["detail"]


def test_unreachable_database_is_one_line_for_other_commands(mai: Mai, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://nobody@127.0.0.1:1/none")
    result = mai("users", "list")
    assert result.code == 1
    assert result.err.startswith("mai: the database cannot be reached")
    assert result.err.count("\n") == 1


def test_config_path_show_and_set(mai: Mai) -> None:
    paths = mai("config", "path", "--json").json()
    assert paths["config_file"] == str(Paths.from_environment().config_file)
    assert paths["database"].endswith("mai/mai.db")
    assert mai("config", "set", "webui_name", "Acme AI").code == 0
    shown = mai("config", "show", "--json").json()
    assert shown["settings"]["webui_name"] == "Acme AI"
    text = mai("config", "show").out
    assert 'webui_name = "Acme AI"' in text
    bad = mai("config", "set", "log_level", "LOUD")
    assert bad.code == 1
    assert "expected one of" in bad.err


def test_bad_config_file_is_one_line_never_a_traceback(mai: Mai) -> None:
    config_file = Paths.from_environment().config_file
    config_file.parent.mkdir(parents=True, exist_ok=True)
    config_file.write_text("log_level = [")
    result = mai("users", "list")
    assert result.code == 1
    assert str(config_file) in result.err
    assert "Traceback" not in result.err


def test_log_file_is_written_at_log_level_and_private(mai: Mai, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    assert mai("db", "upgrade").code == 0
    log_file = Paths.from_environment().log_file
    assert "migrating database from empty to" in log_file.read_text()
    assert stat.S_IMODE(log_file.parent.stat().st_mode) == 0o700


def test_a_broken_database_file_is_reported_and_left_alone(mai: Mai) -> None:
    database = Paths.from_environment().database_file
    database.parent.mkdir(parents=True)
    garbage = b"this is not a database, but it is someone's file\n" * 100
    database.write_bytes(garbage)
    result = mai("users", "list")
    assert result.code == 1
    assert "file is not a database" in result.err
    assert result.err.count("\n") == 1
    assert database.read_bytes() == garbage


def test_a_database_url_folder_keeps_its_mode(mai: Mai, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{shared / 'webui.db'}")
    assert mai("db", "init").code == 0
    assert stat.S_IMODE(shared.stat().st_mode) == 0o755
    assert stat.S_IMODE((shared / "webui.db").stat().st_mode) == 0o600


def test_doctor_creates_nothing(mai: Mai) -> None:
    paths = Paths.from_environment()
    assert mai("doctor").code == 0
    assert not paths.data_dir.exists()
    assert not paths.config_dir.exists()


def test_doctor_says_when_the_schema_is_behind(mai: Mai) -> None:
    from mai_tui.core.store.engine import get_engine
    from mai_tui.core.store.migrate import revisions, upgrade

    upgrade(get_engine(f"sqlite:///{Paths.from_environment().database_file}"), revisions()[0])
    [database] = [c for c in mai("doctor", "--json").json()["checks"] if c["area"] == "database"]
    assert database["status"] == "warn"
    assert "run: mai db upgrade" in database["detail"]
    assert mai("users", "list").code == 0  # any real command migrates it
    [database] = [c for c in mai("doctor", "--json").json()["checks"] if c["area"] == "database"]
    assert database["status"] == "ok"


def test_config_show_masks_the_database_password(mai: Mai, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://mai:hunter2secret@127.0.0.1:1/none")
    for command in (("config", "show"), ("config", "show", "--json")):
        result = mai(*command)
        assert "hunter2secret" not in result.out
        assert "***" in result.out
