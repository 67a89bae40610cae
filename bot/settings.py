"""All of bot/'s configuration, read once from the environment (and an optional .env file)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Shorter secrets are refused at start-up: a guessable token is worse than none.
MIN_TOKEN_CHARS = 24


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    environment: str = Field("development", description="development | test | production")
    # Loopback unless a deployment says otherwise (BOT_HOST=0.0.0.0 behind its load balancer).
    bot_host: str = "127.0.0.1"
    bot_port: int = 8000
    # One Rasa URL, or several comma-separated instances sharing a tracker store (bot/rasa_client.py).
    rasa_url: str = "http://127.0.0.1:5005"
    rasa_timeout_seconds: float = 10.0
    # Messages each Rasa instance works on at once; the rest wait in bot/ in arrival order (0: no limit).
    rasa_max_in_flight: int = Field(3, ge=0)
    # Token of Rasa's HTTP API (Rasa runs with --auth-token; bot/ sends it as ?token=). scripts/stack.py
    # generates one per run when unset outside production; production refuses to start without it.
    rasa_token: str = ""
    action_server_url: str = "http://127.0.0.1:5055"
    database_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'bot.db'}"
    index_dir: Path = PROJECT_ROOT / "var" / "index"
    # No default credential: without STAFF_TOKEN the staff endpoints answer 503 (bot/auth.py).
    staff_token: str = ""
    # The action server's own credential (header X-Action-Server-Token): its calls are then limited per
    # conversation, not per IP. Empty: its calls count as any client's.
    action_server_token: str = ""
    # Failed staff or action-server credentials per client IP within the window, then 429 until it slides.
    staff_login_max_failures: int = Field(10, ge=1)
    staff_login_window_seconds: int = Field(900, ge=1)
    # Console sessions (per-person accounts, bot/accounts.py): at most this long after logging in,
    # and ended after this long without a request.
    staff_session_hours: float = Field(10.0, gt=0, le=24 * 30)
    staff_session_idle_minutes: float = Field(60.0, gt=0)
    # Addresses whose X-Forwarded-For / X-Forwarded-Proto uvicorn trusts (the load balancer's; * = any).
    forwarded_allow_ips: str = "127.0.0.1"
    max_message_chars: int = 1000
    # Origins allowed to embed the widget and call the public chat API (comma-separated, * = any).
    cors_origins: str = "*"
    log_level: str = "INFO"
    # WeChat Official Account (公众号)
    wechat_token: str = ""
    wechat_appid: str = ""
    wechat_secret: str = ""
    wechat_aes_key: str = ""
    wechat_api_base: str = "https://api.weixin.qq.com"
    wechat_reply_budget_seconds: float = 4.0
    # A signed WeChat request older or newer than this is refused (limits replay of a captured URL).
    wechat_max_timestamp_skew_seconds: int = 300
    # How long a MsgId (or event) is remembered to answer WeChat's retries once (WeChat retries for ~15 s).
    wechat_dedup_ttl_seconds: int = 300
    # How long a user's reply "1", "2", … still picks one of the numbered options last shown to them.
    wechat_options_ttl_seconds: int = 300
    # Timeout of each call to WeChat's API (access token, customer-service messages).
    wechat_api_timeout_seconds: float = 5.0
    # Rate limiting on public endpoints: requests per minute per sender and per client IP.
    rate_limit_per_minute: int = 60
    rate_limit_per_ip_per_minute: int = 600
    # Owner lookup of an enrollment (POST /api/enrollments/lookup): failed lookups allowed per
    # enrollment number and per phone within the window, then 429 (bot/lookup_throttle.py).
    enrollment_lookup_max_failures: int = Field(5, ge=1)
    enrollment_lookup_window_seconds: int = Field(600, ge=1)
    # Shared state for several bot/ workers (rate limits, WeChat retry dedup and access token); empty = in memory.
    redis_url: str = ""
    # Request limits checked before any endpoint parses a body (bot/limits.py): larger bodies get
    # 413, JSON nested deeper gets 422. No documented request comes close to either.
    max_body_bytes: int = Field(64 * 1024, ge=1024)
    max_json_depth: int = Field(32, ge=4, le=500)
    # Personal data older than this many days is deleted or anonymised by `make purge` (scripts/purge.py).
    retention_days: int = Field(180, ge=1)
    # Rasa's tracker store (the URL endpoints.yml gives Rasa), read by `make purge`.
    tracker_db_url: str = f"sqlite:///{PROJECT_ROOT / 'var' / 'rasa' / 'tracker.db'}"
    # Unanswered questions kept for staff (bot/unanswered_store.py): one row per normalised question,
    # at most this many rows (the least asked, longest unseen go first), at most this many added per sender.
    unanswered_max_rows: int = Field(5000, ge=10)
    unanswered_max_per_sender: int = Field(20, ge=1)

    @field_validator("staff_token", "action_server_token")
    @classmethod
    def _strip_token(cls, value: str) -> str:
        return value.strip()  # a header's token is read stripped: a padded secret could never match

    @model_validator(mode="after")
    def _refuse_weak_secrets(self) -> Settings:
        for name, value in (("STAFF_TOKEN", self.staff_token), ("ACTION_SERVER_TOKEN", self.action_server_token)):
            if value and len(value) < MIN_TOKEN_CHARS:
                raise ValueError(
                    f"{name} is too short ({len(value)} characters): use at least {MIN_TOKEN_CHARS}, e.g. "
                    "the output of: python -c 'import secrets; print(secrets.token_urlsafe(32))'"
                )
        return self

    @model_validator(mode="after")
    def _rasa_token_outside_development(self) -> Settings:
        if self.environment not in ("development", "test") and not self.rasa_token.strip():
            raise ValueError(
                "RASA_TOKEN must be set outside development: Rasa's HTTP API (trackers, model) "
                "is open to anyone who can reach it without one"
            )
        return self


@lru_cache
def get_settings() -> Settings:
    return Settings()
