"""Settings: defaults < config.toml < environment, and one clear line for every mistake."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from mai_tui.config import Paths, load_settings, set_config_value
from mai_tui.core.errors import ConfigError


def config_file() -> Path:
    path = Paths.from_environment().config_file
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def test_defaults_are_the_seeds() -> None:
    settings = load_settings()
    assert settings.webui_name == "mAI"
    assert settings.openrouter_usage_sync_interval == 600
    assert settings.openrouter_usage_sync_days_back == 1
    assert settings.log_level == "INFO"
    assert settings.env == "prod"


def test_file_overrides_defaults_and_environment_overrides_file(monkeypatch: pytest.MonkeyPatch) -> None:
    config_file().write_text(
        'webui_name = "Acme AI"\nlog_level = "debug"\n'
        '[providers.ollama]\nbase_url = "http://10.1.1.1:11434"\n'
        '[providers.custom.lab]\nbase_url = "http://127.0.0.1:9000/v1/"\n'
    )
    settings = load_settings()
    assert settings.webui_name == "Acme AI"
    assert settings.log_level == "DEBUG"
    assert settings.providers.ollama.base_url == "http://10.1.1.1:11434"
    assert settings.providers.custom["lab"].base_url == "http://127.0.0.1:9000/v1"

    monkeypatch.setenv("WEBUI_NAME", "From Env")
    monkeypatch.setenv("OLLAMA_BASE_URL", "http://127.0.0.1:11434")
    monkeypatch.setenv("OPENROUTER_USAGE_SYNC_INTERVAL", "120")
    settings = load_settings()
    assert settings.webui_name == "From Env"
    assert settings.providers.ollama.base_url == "http://127.0.0.1:11434"
    assert settings.openrouter_usage_sync_interval == 120
    assert settings.providers.custom["lab"].base_url == "http://127.0.0.1:9000/v1"  # deep merge keeps the file's


def test_knowledge_settings_have_defaults_and_come_from_the_file() -> None:
    knowledge = load_settings().knowledge
    assert (knowledge.embedder, knowledge.chunk_size, knowledge.chunk_overlap) == ("minilm", 1000, 100)
    assert (knowledge.top_k, knowledge.min_score, knowledge.max_file_mb) == (5, None, 50)
    config_file().write_text(
        '[knowledge]\nembedder = "ollama:nomic-embed-text"\nchunk_size = 400\nchunk_overlap = 199\n'
    )
    knowledge = load_settings().knowledge
    assert (knowledge.embedder, knowledge.chunk_size, knowledge.chunk_overlap) == ("ollama:nomic-embed-text", 400, 199)
    assert set_config_value("knowledge.min_score", "0.35") == 0.35
    assert load_settings().knowledge.min_score == 0.35


def test_mai_config_points_at_another_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    other = tmp_path / "elsewhere.toml"
    other.write_text('webui_name = "Other"\n')
    monkeypatch.setenv("MAI_CONFIG", str(other))
    assert load_settings().webui_name == "Other"


def test_broken_toml_names_the_file() -> None:
    path = config_file()
    path.write_text("webui_name = \n")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert str(path) in message
    assert "not valid TOML" in message
    assert "\n" not in message


@pytest.mark.parametrize(
    ("content", "key", "expected"),
    [
        ('log_level = "LOUD"\n', "log_level", "expected one of"),
        ('openrouter_usage_sync_interval = "often"\n', "openrouter_usage_sync_interval", "whole number"),
        ("openrouter_usage_sync_interval = 1\n", "openrouter_usage_sync_interval", "out of range"),
        ('[providers.openai]\nbase_url = "ftp://x"\n', "providers.openai.base_url", "http://"),
        ('colour = "blue"\n', "colour", "unknown setting"),
        ('[providers.custom.lab]\nurl = "http://x"\n', "providers.custom.lab", ""),
        ("[knowledge]\ntop_k = 0\n", "knowledge.top_k", "out of range"),
        ("[knowledge]\nmin_score = 1.5\n", "knowledge.min_score", "out of range"),
        ("[knowledge]\nchunk_size = 50\n", "knowledge.chunk_size", "out of range"),
        ("[knowledge]\nchunk_size = 1000\nchunk_overlap = 500\n", "knowledge", "less than half of chunk_size (1000)"),
    ],
)
def test_bad_value_names_file_key_and_expectation(content: str, key: str, expected: str) -> None:
    path = config_file()
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert str(path) in message
    assert f"'{key}" in message
    assert expected in message
    assert "Traceback" not in message


def test_bad_environment_value_names_the_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "chatty")
    with pytest.raises(ConfigError, match=r"^environment variable LOG_LEVEL: expected one of .*'CHATTY'"):
        load_settings()


def test_config_set_keeps_comments_and_types() -> None:
    path = config_file()
    path.write_text('# my settings\nwebui_name = "Acme"  # the brand\n\n[providers.ollama]\n# local box\n')
    assert set_config_value("openrouter_usage_sync_interval", "900") == 900
    assert set_config_value("providers.ollama.base_url", "http://127.0.0.1:11434") == "http://127.0.0.1:11434"
    assert set_config_value("log_level", "warning") == "WARNING"
    text = path.read_text()
    assert "# my settings" in text
    assert "# the brand" in text
    assert "# local box" in text
    assert "openrouter_usage_sync_interval = 900" in text
    settings = load_settings()
    assert settings.openrouter_usage_sync_interval == 900
    assert settings.log_level == "WARNING"


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("log_level", "loud"),
        ("no_such_key", "1"),
        ("providers.openai.api_key", "sk-secret-value-123"),
        ("openrouter_usage_sync_days_back", "-1"),
    ],
)
def test_config_set_refuses_invalid_values_and_writes_nothing(key: str, value: str) -> None:
    path = config_file()
    path.write_text("# untouched\n")
    before = os.stat(path).st_mtime_ns, path.read_text()
    with pytest.raises(ConfigError):
        set_config_value(key, value)
    assert (os.stat(path).st_mtime_ns, path.read_text()) == before
