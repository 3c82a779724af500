"""The settings as a form: described from the model, saved as one checked batch that keeps comments."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import pytest

from mai_tui.config import Settings, load_settings
from mai_tui.core.errors import ConfigError
from mai_tui.core.secrets import SecretStore, Source
from mai_tui.core.settings_edit import (
    SECTIONS,
    InvalidSettings,
    SettingInfo,
    available_languages,
    describe_keys,
    describe_settings,
    key_problem,
    save_settings,
)
from mai_tui.locations import Paths

COMMENTED = """\
# My mai settings: keep this comment
webui_name = "Acme"  # the brand, keep this too

[knowledge]
# retrieval tuned for long manuals
top_k = 8
"""
KEY = "sk-test-abcdefghijklmnop1234"


def config_file(text: str | None = COMMENTED) -> Path:
    path = Paths.from_environment().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    if text is not None:
        path.write_text(text, encoding="utf-8")
    return path


def by_key(
    settings: Settings | None = None,
    *,
    bindings: dict[str, tuple[str, str]] | None = None,
    choices: dict[str, list[str]] | None = None,
) -> dict[str, SettingInfo]:
    infos = describe_settings(settings or load_settings(), bindings=bindings, choices=choices)
    return {info.key: info for info in infos}


def file_state(path: Path) -> tuple[int, str]:
    return os.stat(path).st_mtime_ns, path.read_text(encoding="utf-8")


# --- describing ---------------------------------------------------------------------------


def test_every_setting_is_described_from_the_model_with_type_bounds_and_choices() -> None:
    config_file()
    infos = by_key()
    assert infos["webui_name"].value == "Acme"
    assert infos["webui_name"].default == "mAI"
    assert infos["log_level"].kind == "choice"
    assert infos["log_level"].choices == ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
    assert infos["send_on_enter"].kind == "bool"
    interval = infos["openrouter_usage_sync_interval"]
    assert (interval.kind, interval.minimum, interval.maximum, interval.section) == ("int", 10, None, "sync")
    assert interval.bounds == "at least 10"
    overlap = infos["knowledge.chunk_overlap"]
    assert (overlap.kind, overlap.minimum, overlap.maximum, overlap.section) == ("int", 0, 5000, "knowledge")
    assert infos["knowledge.top_k"].value == 8
    assert infos["knowledge.top_k"].default == 5
    assert infos["knowledge.min_score"].kind == "float"
    assert infos["knowledge.min_score"].optional
    assert infos["providers.ollama.base_url"].kind == "url"
    assert infos["providers.ollama.base_url"].section == "providers"
    assert infos["voice.max_seconds"].section == "voice"
    assert infos["database_url"].sensitive
    assert all(info.section in SECTIONS for info in infos.values())
    # Every field of the model is there (a new setting needs no hand-kept list), each with its help.
    top_level = {key.split(".")[0] for key in infos}
    assert top_level == set(Settings.model_fields) - {"keymap"}
    assert [key for key, info in infos.items() if not info.help] == []


def test_language_and_theme_are_offered_as_choices() -> None:
    assert available_languages()[0] == "en"
    assert "de" in available_languages()
    infos = by_key(Settings(), choices={"theme": ["mai-dark", "mai-light"]})
    assert infos["language"].kind == "choice"
    assert "de" in infos["language"].choices
    assert infos["theme"].choices == ("mai-dark", "mai-light")


def test_keymap_rows_list_the_apps_bindings_and_any_other_id_in_the_file() -> None:
    config_file('[keymap]\n"chat.stop" = "ctrl+x"\n"old.binding" = "f12"\n')
    bindings = {"chat.stop": ("escape", "Stop"), "chat.new": ("ctrl+n", "New chat")}
    infos = by_key(bindings=bindings)
    assert infos["keymap.chat.stop"].value == "ctrl+x"
    assert infos["keymap.chat.stop"].default == "escape"
    assert infos["keymap.chat.stop"].help == "Stop"
    assert infos["keymap.chat.new"].value is None
    assert infos["keymap.old.binding"].value == "f12"
    assert {info.section for key, info in infos.items() if key.startswith("keymap.")} == {"keymap"}


def test_a_setting_from_the_environment_names_its_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    config_file('theme = "mai-light"\n')
    monkeypatch.setenv("MAI_THEME", "mai-dark")
    infos = by_key()
    assert infos["theme"].value == "mai-dark"
    assert infos["theme"].environment == "MAI_THEME"
    assert not infos["theme"].editable
    assert infos["webui_name"].editable


def test_custom_endpoints_are_described_one_row_each() -> None:
    config_file('[providers.custom.lab]\nbase_url = "http://lab.local/v1"\n')
    infos = by_key()
    lab = infos["providers.custom.lab.base_url"]
    assert (lab.kind, lab.value, lab.section) == ("url", "http://lab.local/v1", "providers")
    assert "lab/model" in lab.help


# --- saving -------------------------------------------------------------------------------


def test_a_batch_is_written_once_typed_and_the_comments_survive() -> None:
    path = config_file()
    saved = save_settings(
        {
            "default_model": "openrouter/openai/gpt-4o-mini",
            "send_on_enter": False,
            "openrouter_usage_sync_interval": "900",
            "log_level": "warning",
            "knowledge.chunk_size": "1500",
            "providers.ollama.base_url": "http://127.0.0.1:11434/",
            "keymap.chat.stop": "ctrl+x",
        }
    )
    assert saved.values["openrouter_usage_sync_interval"] == 900
    assert saved.values["log_level"] == "WARNING"
    assert saved.values["providers.ollama.base_url"] == "http://127.0.0.1:11434"
    text = path.read_text(encoding="utf-8")
    assert "# My mai settings: keep this comment" in text
    assert "# the brand, keep this too" in text
    assert "# retrieval tuned for long manuals" in text
    assert "openrouter_usage_sync_interval = 900" in text
    assert '"chat.stop" = "ctrl+x"' in text
    assert not path.with_suffix(".toml.tmp").exists()
    settings = load_settings()
    assert settings.default_model == "openrouter/openai/gpt-4o-mini"
    assert settings.send_on_enter is False
    assert settings.log_level == "WARNING"
    assert settings.knowledge.chunk_size == 1500
    assert settings.knowledge.top_k == 8
    assert settings.keymap == {"chat.stop": "ctrl+x"}


def test_the_file_is_created_when_there_is_none() -> None:
    path = config_file(None)
    save_settings({"theme": "mai-light"})
    assert tomllib.loads(path.read_text(encoding="utf-8")) == {"theme": "mai-light"}


@pytest.mark.parametrize(
    ("changes", "bad", "reason"),
    [
        ({"knowledge.chunk_overlap": "600"}, "knowledge.chunk_overlap", "less than half of chunk_size"),
        ({"providers.openai.base_url": "api.example.com"}, "providers.openai.base_url", "http://"),
        ({"openrouter_usage_sync_interval": "5"}, "openrouter_usage_sync_interval", "at least 10"),
        ({"log_level": "loud"}, "log_level", "expected one of"),
        ({"knowledge.top_k": "many"}, "knowledge.top_k", "whole number"),
        ({"keymap.chat.stop": "ctrl+x,,"}, "keymap.chat.stop", "separated by commas"),
        ({"providers.custom.openai.base_url": "http://x"}, "providers.custom.openai.base_url", "built-in"),
        ({"no_such_setting": "1"}, "no_such_setting", "unknown setting"),
    ],
)
def test_an_invalid_value_is_refused_by_key_and_nothing_is_written(
    changes: dict[str, str], bad: str, reason: str
) -> None:
    path = config_file()
    before = file_state(path)
    with pytest.raises(InvalidSettings) as caught:
        save_settings({"default_model": "openai/gpt-4o", **changes})
    assert list(caught.value.problems) == [bad]
    assert reason in caught.value.problems[bad]
    assert f"'{bad}'" in str(caught.value)
    assert str(path) in str(caught.value)
    assert isinstance(caught.value, ConfigError)
    assert file_state(path) == before


def test_every_bad_value_of_a_batch_is_reported_at_once() -> None:
    path = config_file()
    before = file_state(path)
    with pytest.raises(InvalidSettings) as caught:
        save_settings(
            {"openrouter_usage_sync_interval": "5", "providers.ollama.base_url": "localhost", "voice.max_seconds": "1"}
        )
    assert set(caught.value.problems) == {
        "openrouter_usage_sync_interval",
        "providers.ollama.base_url",
        "voice.max_seconds",
    }
    assert file_state(path) == before


def test_a_bad_value_already_in_the_file_is_named_too() -> None:
    path = config_file('log_level = "LOUD"  # typo\n')
    with pytest.raises(InvalidSettings) as caught:
        save_settings({"theme": "mai-light"})
    assert list(caught.value.problems) == ["log_level"]
    assert "theme" not in path.read_text(encoding="utf-8")


def test_removing_values_brings_back_the_defaults() -> None:
    path = config_file(
        COMMENTED + '\n[keymap]\n"chat.stop" = "ctrl+x"\n\n[providers.custom.lab]\nbase_url = "http://lab"\n'
    )
    saved = save_settings(
        {"knowledge.top_k": None, "webui_name": "", "keymap.chat.stop": None, "providers.custom.lab": None}
    )
    assert saved.values == {
        "knowledge.top_k": None,
        "webui_name": None,
        "keymap.chat.stop": None,
        "providers.custom.lab": None,
    }
    text = path.read_text(encoding="utf-8")
    assert "# My mai settings: keep this comment" in text
    assert "# retrieval tuned for long manuals" in text  # its table stays: it holds the user's comment
    assert "[keymap]" not in text  # emptied and bare: gone
    assert "lab" not in text
    settings = load_settings()
    assert settings.webui_name == "mAI"
    assert settings.knowledge.top_k == 5
    assert settings.keymap == {}
    assert settings.providers.custom == {}
    save_settings({"default_model": None})  # removing what is not there is fine
    assert "default_model" not in path.read_text(encoding="utf-8")


def test_a_custom_endpoint_can_be_added() -> None:
    config_file()
    save_settings({"providers.custom.lab.base_url": "http://lab.local/v1/"})
    assert load_settings().providers.custom["lab"].base_url == "http://lab.local/v1"
    with pytest.raises(InvalidSettings) as caught:
        save_settings({"providers.custom.my lab.base_url": "http://x"})
    assert "letters, digits" in caught.value.problems["providers.custom.my lab.base_url"]


# --- keys -----------------------------------------------------------------------------------


def store() -> SecretStore:
    return SecretStore(Paths.from_environment().secrets_file, ("lab",))


def test_keys_go_to_the_secret_store_and_never_to_the_config_file() -> None:
    path = config_file()
    secrets = store()
    saved = save_settings({"default_model": "openai/gpt-4o"}, keys={"openai": KEY}, store=secrets)
    assert saved.keys == ["openai"]
    stored = secrets.get("openai")
    assert stored is not None
    assert stored.value == KEY
    assert stored.source is Source.FILE  # the tests' fail keyring: the private file
    assert KEY not in path.read_text(encoding="utf-8")
    [status] = describe_keys(secrets, ["openai"])
    assert status.stored
    assert KEY not in repr(status)


def test_a_bad_key_stops_the_whole_save() -> None:
    path = config_file()
    before = file_state(path)
    secrets = store()
    with pytest.raises(InvalidSettings) as caught:
        save_settings({"theme": "mai-light"}, keys={"openai": "sk two words", "anthropic": KEY}, store=secrets)
    assert list(caught.value.problems) == ["keys.openai"]
    assert "sk two words" not in str(caught.value)
    assert file_state(path) == before
    assert secrets.get("anthropic") is None


def test_key_status_says_where_a_key_comes_from(monkeypatch: pytest.MonkeyPatch) -> None:
    secrets = store()
    secrets.set("anthropic", KEY)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    statuses = {status.name: status for status in describe_keys(secrets)}
    assert set(statuses) == {"openai", "anthropic", "gemini", "openrouter", "openrouter-management", "lab"}
    assert statuses["openai"].environment == "OPENAI_API_KEY"
    assert not statuses["openai"].stored
    assert statuses["anthropic"].source is Source.FILE
    assert statuses["gemini"].source is None
    assert key_problem("  ") == "the key is empty"
    assert key_problem(KEY) is None
