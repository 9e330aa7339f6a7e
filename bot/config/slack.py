"""Slack's settings, under the names Slack's own tools and docs use (no project prefix)."""

from __future__ import annotations

from pydantic import AliasChoices, AliasGenerator, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def _slack_variable(name: str) -> AliasChoices:
    """A setting is read from SLACK_ and its name in capitals (SLACK_BOT_TOKEN), or given by
    its own name (`bot_token`)."""
    return AliasChoices(f"SLACK_{name.upper()}", name)


class SlackSettings(BaseSettings):
    # hide_input_in_errors: an error must never print a token or the signing secret.
    model_config = SettingsConfigDict(
        extra="ignore",
        populate_by_name=True,
        hide_input_in_errors=True,
        alias_generator=AliasGenerator(validation_alias=_slack_variable),
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
