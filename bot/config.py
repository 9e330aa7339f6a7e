"""All configuration, from environment variables, checked once at start.

One pydantic-settings class so that a typo in a value fails loudly at start rather than at the
first message. Every field is listed in the README's configuration table.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge import SHIPPED_KB_DIR


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="EVIDENCE_DESK_", extra="ignore")

    host: str = Field("127.0.0.1", description="Address the web server listens on.")
    port: int = Field(3978, ge=1, le=65535, description="Port the web server listens on.")
    kb_dir: Path = Field(
        SHIPPED_KB_DIR, description="Knowledge base folder (faqs/, site.yaml ...)."
    )
    kb_reload_seconds: float = Field(
        5.0, ge=0, description="How often the server checks the KB folder for edits; 0 = never."
    )
    answer_threshold: float = Field(
        0.16, gt=0, le=1, description="Score at or above which the bot answers with an FAQ entry."
    )
    suggest_threshold: float = Field(
        0.11, gt=0, le=1, description="Score at or above which close entries are offered instead."
    )
    help_entry: str = Field(
        "bot-help", description='KB entry shown for "help" and "what can you do?".'
    )
    max_message_chars: int = Field(
        4000, ge=100, description="Longer messages are refused with a clear reply."
    )
    log_level: str = Field("INFO", description="Python logging level.")

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> Settings:
        if self.suggest_threshold > self.answer_threshold:
            raise ValueError("suggest_threshold must not be above answer_threshold")
        return self
