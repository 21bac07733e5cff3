"""Settings, from the environment and an optional `.env` file (pydantic-settings).

Every setting is an environment variable of the same name in upper case (see README). Secrets are
`SecretStr`, so they never show in a repr or a log line.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, ValidationError, ValidationInfo, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SOURCE_LANGUAGE = "en"  # the language of the code's strings: it needs no catalogue

SECRET_SETTINGS = frozenset(
    {
        "telegram_bot_token",
        "telegram_webhook_secret",
        "slack_bot_token",
        "slack_app_token",
        "slack_signing_secret",
    }
)


TELEGRAM_TOKEN = re.compile(r"^\d+:[A-Za-z0-9_-]{10,}$")


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

    @field_validator("telegram_bot_token")
    @classmethod
    def _telegram_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        if not TELEGRAM_TOKEN.match(value.get_secret_value().strip()):
            raise ValueError("is not a bot token from @BotFather (digits, a colon, then letters and digits)")
        return SecretStr(value.get_secret_value().strip())

    @field_validator("slack_bot_token", "slack_app_token")
    @classmethod
    def _slack_token(cls, value: SecretStr | None, info: ValidationInfo) -> SecretStr | None:
        if value is None or not value.get_secret_value():
            return None
        prefix = "xoxb-" if info.field_name == "slack_bot_token" else "xapp-"
        if not value.get_secret_value().strip().startswith(prefix):
            kind = "bot token" if prefix == "xoxb-" else "app-level token"
            raise ValueError(f"is not a Slack {kind} (it starts with {prefix})")
        return SecretStr(value.get_secret_value().strip())

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
    """Read the settings, turning a validation error into one `ConfigError` line; then check what the
    values point at (folders, the default language's catalogue), so a bad setting stops the bot before
    anything starts."""
    try:
        settings = Settings(**overrides)  # type: ignore[arg-type]
    except ValidationError as error:
        first = error.errors()[0]
        name = str(first["loc"][0]).upper() if first["loc"] else "settings"
        message = first["msg"].removeprefix("Value error, ")
        shown = "" if name.lower() in SECRET_SETTINGS else f" (got {first.get('input')!r})"
        raise ConfigError(f"{name}: {message}{shown}") from None
    check_places(settings)
    return settings


def check_places(settings: Settings) -> None:
    """The folders exist and the default language has a catalogue; else `ConfigError`."""
    for name in ("bot_content_dir", "bot_locales_dir"):
        folder: Path = getattr(settings, name)
        if not folder.is_dir():
            raise ConfigError(f"{name.upper()}: {folder} is not a folder")
    language = settings.bot_default_language
    catalogues = sorted(p.parent.parent.name for p in settings.bot_locales_dir.glob("*/LC_MESSAGES/*.po"))
    if language != SOURCE_LANGUAGE and language not in catalogues:
        known = ", ".join([SOURCE_LANGUAGE, *catalogues])
        raise ConfigError(
            f"BOT_DEFAULT_LANGUAGE: there is no catalogue for {language!r} in {settings.bot_locales_dir} "
            f"(there are: {known}; `run_bot.py i18n init {language}` starts one)"
        )
    if settings.bot_data_dir.exists() and not settings.bot_data_dir.is_dir():
        raise ConfigError(f"BOT_DATA_DIR: {settings.bot_data_dir} is a file, not a folder")
