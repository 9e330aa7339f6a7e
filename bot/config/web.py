"""The web chat's and admin console's settings (EVIDENCE_DESK_WEB_*), checked once at start."""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.network import Network, parse_networks

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EVIDENCE_DESK_WEB_", extra="ignore", hide_input_in_errors=True
    )

    demo: bool = Field(
        False,
        description=(
            "Demo mode (`evidence-desk serve --demo`, which `tasks.py run` uses): anyone can act "
            "as anyone in the chat, with a specialist view and a demo specialist "
            "(web:specialist). Only on a loopback EVIDENCE_DESK_HOST; off, the demo specialist "
            "is deactivated and chat identities come from a signed cookie."
        ),
    )
    conversation: str = Field(
        "web-chat",
        pattern=_ID,
        description="The web chat's channel id: what `routes add web ...` routes.",
    )
    specialist_user: str = Field(
        "specialist", pattern=_ID, description="The demo specialist's web user id."
    )
    secure_cookies: bool | None = Field(
        None,
        description=(
            "Mark the chat's and console's cookies Secure. Default: when the client's "
            "connection was HTTPS (directly, or as a trusted proxy's X-Forwarded-Proto says)."
        ),
    )
    trusted_proxies: str = Field(
        "",
        description=(
            "Comma-separated addresses or CIDR ranges of the reverse proxies in front of the "
            "server. Only requests from them may set X-Forwarded-For (the client address the "
            "sign-in limit counts) and X-Forwarded-Proto (Secure cookies, HSTS). Empty: both "
            "headers are ignored."
        ),
    )
    hsts_seconds: int = Field(
        31_536_000,
        ge=0,
        description=(
            "Strict-Transport-Security max-age sent on web pages served over HTTPS (directly "
            "or via a trusted proxy); 0 = no HSTS header."
        ),
    )
    chat_poll_ms: int = Field(
        1500, ge=200, description="How often the chat page asks for new messages."
    )
    session_hours: float = Field(
        8.0,
        gt=0,
        description="A session's longest life (the console's, and Microsoft sign-in's).",
    )
    session_idle_minutes: float = Field(
        60.0,
        gt=0,
        description="A session ends after this long unused (the chat's polling is not use).",
    )
    login_max_failures: int = Field(
        5,
        ge=1,
        description=(
            "Password checks allowed per email and client address in the window, counted "
            "atomically before each check (a right password clears the count)."
        ),
    )
    login_window_minutes: float = Field(
        15.0, gt=0, description="The window for `login_max_failures`."
    )

    @field_validator("trusted_proxies")
    @classmethod
    def _networks(cls, value: str) -> str:
        parse_networks(value.split(","))  # raises, naming the bad entry
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies.split(","))
