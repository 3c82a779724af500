"""`mai keys`: keys come in on stdin or a hidden prompt, and never come out in full."""

from __future__ import annotations

import stat

import pytest

from mai_tui.locations import Paths
from tests.cli.conftest import Mai

KEY = "sk-or-v1-0123456789abcdef0123456789abcdef"


def test_set_list_delete_without_keyring(mai: Mai) -> None:
    result = mai("keys", "set", "openrouter", stdin=KEY + "\n")
    assert result.code == 0, result.err
    assert "plain text" in result.err  # the fallback is reported honestly
    secrets_file = Paths.from_environment().secrets_file
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600

    listing = {row["name"]: row for row in mai("keys", "list", "--json").json()}
    assert listing["openrouter"]["present"] is True
    assert listing["openrouter"]["source"] == "file"
    assert listing["openrouter"]["key"] == "sk-…cdef"
    assert listing["openai"]["present"] is False

    assert mai("keys", "delete", "openrouter").code == 0
    again = mai("keys", "delete", "openrouter")
    assert again.code == 1
    assert "no stored openrouter key" in again.err


def test_org_key_needs_an_existing_org_and_an_admin(mai: Mai) -> None:
    mai("db", "init", "--sample")
    assert mai("keys", "set", "openrouter", "--org", "acme", stdin=KEY).code == 0
    orgs = {o["name"]: o for o in mai("orgs", "list", "--json").json()}
    assert orgs["acme"]["has_openrouter_key"] is True
    assert orgs["globex"]["has_openrouter_key"] is False
    assert "org:acme:openrouter" in mai("keys", "list").out
    assert mai("keys", "set", "openrouter", "--org", "nope", stdin=KEY).code == 1
    assert mai("keys", "set", "openai", "--org", "acme", stdin=KEY).code == 1
    refused = mai("keys", "set", "openrouter", "--org", "acme", stdin=KEY, user="alice")
    assert refused.code == 1
    assert "only an admin" in refused.err


def test_unknown_provider_and_empty_key_are_refused(mai: Mai) -> None:
    unknown = mai("keys", "set", "opnai", stdin=KEY)
    assert unknown.code == 1
    assert "unknown provider" in unknown.err
    empty = mai("keys", "set", "openai", stdin="\n")
    assert empty.code == 1
    assert "empty" in empty.err


def test_custom_endpoint_names_are_accepted(mai: Mai) -> None:
    assert mai("config", "set", "providers.custom.lab.base_url", "http://127.0.0.1:9000/v1").code == 0
    assert mai("keys", "set", "lab", stdin=KEY).code == 0
    assert {row["name"] for row in mai("keys", "list", "--json").json()} >= {"lab", "openai"}


def test_keys_never_appear_in_output_or_logs(mai: Mai, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-api03-environmentsecret0123456789")
    outputs = [mai("keys", "set", "openai", stdin=KEY)]
    for command in (
        ("keys", "list"),
        ("keys", "list", "--json"),
        ("config", "show"),
        ("config", "show", "--json"),
        ("doctor",),
        ("doctor", "--json"),
        ("users", "list"),
    ):
        outputs.append(mai(*command))
    import logging

    logging.getLogger("mai_tui.test").warning("leaked %s and %s", KEY, "sk-ant-api03-environmentsecret0123456789")
    log_text = Paths.from_environment().log_file.read_text()
    for secret in (KEY, "sk-ant-api03-environmentsecret0123456789"):
        for result in outputs:
            assert secret not in result.out
            assert secret not in result.err
        assert secret not in log_text
    assert "leaked [REDACTED] and [REDACTED]" in log_text
