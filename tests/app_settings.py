"""The settings a test runs the whole app (`create_app`) with, so that each test names only the
settings it is about."""

from __future__ import annotations

from typing import Any

from bot.config import Settings
from bot.db.session import Database

#: Nothing runs on its own during a test: no KB reloading, no escalation sweep (hourly); and the
#: hashes that stand for people in FAQ feedback have a fixed salt.
QUIET: dict[str, Any] = {
    "kb_reload_seconds": 0,
    "escalation_interval_seconds": 3600,
    "feedback_salt": "salt",
}


def app_settings(database_url: str, **overrides: Any) -> Settings:
    """The app on `database_url`, QUIET unless `overrides` say otherwise."""
    return Settings(database_url=database_url, **(QUIET | overrides))


def url_of(database: Database) -> str:
    """The test database's URL, password and all, for the app's own engine on it."""
    return database.engine.url.render_as_string(hide_password=False)
