"""The web chat's and admin console's settings (EVIDENCE_DESK_WEB_*), checked once at start."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

_ID = r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$"


class WebSettings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="EVIDENCE_DESK_WEB_", extra="ignore", hide_input_in_errors=True
    )

    demo: bool = Field(
        True,
        description=(
            "Demo mode: the chat page offers a specialist view, and on first start with no "
            "specialists a demo specialist (web:specialist) and a route for the chat are "
            "created. Set false in production: chat identities then come from a cookie."
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
            "Mark admin cookies Secure. Default: when the request came over HTTPS; set true "
            "behind a TLS-terminating proxy."
        ),
    )
    kb_poll_seconds: float = Field(
        5.0, ge=0, description="How often each worker checks for a newly published KB; 0 = never."
    )
    chat_poll_ms: int = Field(
        1500, ge=200, description="How often the chat page asks for new messages."
    )
    session_hours: float = Field(8.0, gt=0, description="An admin session's longest life.")
    session_idle_minutes: float = Field(
        60.0, gt=0, description="An admin session ends after this long unused."
    )
    login_max_failures: int = Field(
        5, ge=1, description="Failed sign-ins allowed per email and address in the window."
    )
    login_window_minutes: float = Field(
        15.0, gt=0, description="The window for `login_max_failures`."
    )
