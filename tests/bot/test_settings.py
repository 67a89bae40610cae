import pytest
from pydantic import ValidationError

from bot.settings import Settings


def test_no_credential_and_no_public_address_by_default(monkeypatch):
    for name in ("STAFF_TOKEN", "ACTION_SERVER_TOKEN", "BOT_HOST", "FORWARDED_ALLOW_IPS"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings(_env_file=None)
    assert (settings.staff_token, settings.action_server_token) == ("", "")
    assert settings.bot_host == "127.0.0.1" and settings.forwarded_allow_ips == "127.0.0.1"


@pytest.mark.parametrize("name", ["staff_token", "action_server_token"])
def test_a_short_token_is_refused_with_what_to_do(name):
    with pytest.raises(ValidationError, match=f"{name.upper()} is too short .* at least 24"):
        Settings(**{name: "s3cret-value"})


def test_production_starts_with_a_real_token():
    token = "k7Qm2vX9pL4rT8wZ1nB6cY3hJ5sD0fG"
    settings = Settings(environment="production", staff_token=token, rasa_token="rasa-" + token)
    assert settings.staff_token == token


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:6005")
    monkeypatch.setenv("BOT_PORT", "8123")
    settings = Settings()
    assert settings.rasa_url == "http://127.0.0.1:6005" and settings.bot_port == 8123
