import pytest
from pydantic import ValidationError

from bot.settings import Settings


def test_default_staff_token_is_refused_in_production():
    with pytest.raises(ValidationError, match="STAFF_TOKEN"):
        Settings(environment="production")


def test_production_starts_with_a_real_token():
    assert Settings(environment="production", staff_token="s3cret-value",
                    rasa_token="rasa-token-for-tests").staff_token == "s3cret-value"


def test_settings_come_from_the_environment(monkeypatch):
    monkeypatch.setenv("RASA_URL", "http://127.0.0.1:6005")
    monkeypatch.setenv("BOT_PORT", "8123")
    settings = Settings()
    assert settings.rasa_url == "http://127.0.0.1:6005" and settings.bot_port == 8123
