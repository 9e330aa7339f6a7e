"""Slack's settings, under the names Slack's own tools and docs use (no project prefix)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SlackSettings(BaseSettings):
    """Read from SLACK_ and the name in capitals (SLACK_BOT_TOKEN) only: never from a bare
    BOT_TOKEN or API_URL that something else in the environment may have set (an API_URL
    meant for another program would send the bot token there). In code, given by name."""

    # hide_input_in_errors: an error must never print a token or the signing secret.
    model_config = SettingsConfigDict(
        extra="ignore", env_prefix="SLACK_", hide_input_in_errors=True
    )

    bot_token: str = Field("", description="Bot token (xoxb-...). Empty: Slack is not connected.")
    signing_secret: str = Field(
        "", description="Signing secret: every HTTP request from Slack is checked against it."
    )
    app_token: str = Field(
        "", description="App-level token (xapp-...): set it to use Socket Mode instead of HTTP."
    )
    api_url: str = Field(
        "https://slack.com/api/",
        description="Slack Web API base URL (a proxy, or a local test server).",
    )

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)
