"""Slack's settings, under the names Slack's own tools and docs use (no project prefix)."""

from __future__ import annotations

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class SlackSettings(BaseSettings):
    # hide_input_in_errors: an error must never print a token or the signing secret.
    model_config = SettingsConfigDict(
        extra="ignore", populate_by_name=True, hide_input_in_errors=True
    )

    bot_token: str = Field(
        "",
        validation_alias=AliasChoices("SLACK_BOT_TOKEN", "bot_token"),
        description="Bot token (xoxb-...). Empty: Slack is not connected.",
    )
    signing_secret: str = Field(
        "",
        validation_alias=AliasChoices("SLACK_SIGNING_SECRET", "signing_secret"),
        description="Signing secret: every HTTP request from Slack is checked against it.",
    )
    app_token: str = Field(
        "",
        validation_alias=AliasChoices("SLACK_APP_TOKEN", "app_token"),
        description="App-level token (xapp-...): set it to use Socket Mode instead of HTTP.",
    )
    api_url: str = Field(
        "https://slack.com/api/",
        validation_alias=AliasChoices("SLACK_API_URL", "api_url"),
        description="Slack Web API base URL (a proxy, or a local test server).",
    )

    @property
    def enabled(self) -> bool:
        return bool(self.bot_token)

    @property
    def socket_mode(self) -> bool:
        return bool(self.app_token)
