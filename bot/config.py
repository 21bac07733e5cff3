"""Settings, from the environment and an optional `.env` file (pydantic-settings).

Every setting is an environment variable of the same name in upper case (see README). Secrets are
`SecretStr`, so they never show in a repr or a log line.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

SECRET_SETTINGS = frozenset(
    {
        "telegram_bot_token",
        "telegram_webhook_secret",
        "slack_bot_token",
        "slack_app_token",
        "slack_signing_secret",
    }
)


class ConfigError(Exception):
    """A setting has a bad value. The message is one line that names the setting."""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    bot_data_dir: Path = Path("data")
    bot_database_url: str | None = None
    bot_content_dir: Path = PROJECT_ROOT / "content"
    bot_locales_dir: Path = PROJECT_ROOT / "locales"
    bot_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    bot_default_language: str = "en"
    bot_flood_burst: int = Field(default=8, ge=1, le=1000)
    bot_flood_per_minute: int = Field(default=30, ge=1, le=100_000)
    bot_max_text_length: int = Field(default=4096, ge=16, le=100_000)
    bot_http_host: str = "0.0.0.0"
    bot_http_port: int = Field(default=8080, ge=0, le=65535)  # 0: any free port

    # Delivery (outbox): see README "Delivery".
    telegram_rate_per_s: float = Field(default=30.0, gt=0, le=1000)
    delivery_rate_share: float = Field(default=0.97, gt=0, le=1)
    delivery_lease_seconds: float = Field(default=60.0, ge=2, le=3600)
    delivery_max_attempts: int = Field(default=8, ge=1, le=100)
    delivery_workers: int = Field(default=4, ge=1, le=64)

    # Scheduler (README "Events and reminders"): how late a missed reminder may still be sent.
    scheduler_grace_fraction: float = Field(default=0.25, ge=0, le=1)
    scheduler_grace_max_hours: float = Field(default=6.0, ge=0, le=168)

    # Introductions and matching rounds (README "Focal points meet each other").
    introductions_expire_days: int = Field(default=14, ge=1, le=365)
    introductions_max_open: int = Field(default=5, ge=1, le=100)
    matching_enabled: bool = True
    matching_every_months: int = Field(default=1, ge=1, le=12)
    matching_day: int = Field(default=1, ge=1, le=28)  # day of the month a round runs
    matching_time: str = "09:00"  # UTC
    matching_announce_hours: float = Field(default=24.0, ge=0, le=24 * 14)
    matching_avoid_rounds: int = Field(default=3, ge=0, le=24)  # no pair met in the last N rounds again

    telegram_bot_token: SecretStr | None = None
    telegram_webhook_url: str | None = None
    telegram_webhook_secret: SecretStr | None = None
    telegram_api_base_url: str | None = None

    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None
    slack_signing_secret: SecretStr | None = None
    slack_staff_user_ids: str = ""
    slack_staff_channel: str | None = None
    slack_api_base_url: str | None = None

    @field_validator("bot_database_url")
    @classmethod
    def _known_driver(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("sqlite+aiosqlite://", "postgresql+asyncpg://")):
            raise ValueError("must start with sqlite+aiosqlite:// or postgresql+asyncpg://")
        return value

    @field_validator("telegram_webhook_url", "telegram_api_base_url", "slack_api_base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value

    @field_validator("matching_time")
    @classmethod
    def _clock_time(cls, value: str) -> str:
        hours, _, minutes = value.strip().partition(":")
        if not (hours.isdigit() and minutes.isdigit() and int(hours) < 24 and int(minutes) < 60):
            raise ValueError("must be a time of day HH:MM (UTC), such as 09:00")
        return f"{int(hours):02d}:{int(minutes):02d}"

    @field_validator("bot_default_language")
    @classmethod
    def _language_code(cls, value: str) -> str:
        if not (2 <= len(value) <= 3 and value.isalpha() and value.islower()):
            raise ValueError("must be a lowercase ISO 639-1 code such as en")
        return value

    @property
    def database_url(self) -> str:
        if self.bot_database_url:
            return self.bot_database_url
        return f"sqlite+aiosqlite:///{self.bot_data_dir / 'bot.sqlite3'}"

    @property
    def staff_user_ids(self) -> frozenset[str]:
        return frozenset(part.strip() for part in self.slack_staff_user_ids.split(",") if part.strip())

    def secret_values(self) -> list[str]:
        """The secrets' plain values, so the log filter can mask them wherever they appear."""
        values = []
        for name in SECRET_SETTINGS:
            secret = getattr(self, name)
            if secret is not None and secret.get_secret_value():
                values.append(secret.get_secret_value())
        return values


def load_settings(**overrides: object) -> Settings:
    """Read the settings, turning a validation error into one `ConfigError` line."""
    try:
        return Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        shown = "" if name.lower() in SECRET_SETTINGS else f" (got {first.get('input')!r})"
        raise ConfigError(f"{name}: {message}{shown}") from None
