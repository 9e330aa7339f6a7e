"""A configuration error names the setting and the problem, never the value: values are
tokens, secrets and database URLs with passwords in them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError
from pydantic_settings import BaseSettings

from bot.config import Settings
from bot.config.slack import SlackSettings
from bot.config.teams import TeamsSettings
from bot.config.web import WebSettings

SECRET = "hunter2-s3cret"


@pytest.mark.parametrize(
    ("settings_class", "field"),
    [
        (Settings, "database_url"),
        (Settings, "feedback_salt"),
        (SlackSettings, "signing_secret"),
        (SlackSettings, "bot_token"),
        (TeamsSettings, "app_password"),
        (WebSettings, "conversation"),
    ],
)
def test_a_rejected_value_is_not_printed_in_the_error(
    settings_class: type[BaseSettings], field: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        settings_class(**{field: [SECRET]})
    assert field in str(caught.value)
    assert SECRET not in str(caught.value)


@pytest.mark.parametrize(
    "url",
    [
        "mysql://admin:hunter2-s3cret@db/evidence",
        "postgresql://admin:hunter2-s3cret/evidence",  # host forgotten: the password is a "port"
        "hunter2-s3cret@db/evidence",  # scheme forgotten
        "postgres//admin:hunter2-s3cret@db/evidence",
    ],
)
def test_a_bad_database_url_is_refused_without_quoting_its_password(url: str) -> None:
    with pytest.raises(ValidationError) as caught:
        Settings(database_url=url)
    assert "database_url" in str(caught.value)
    assert "hunter2" not in str(caught.value)
    assert "s3cret" not in str(caught.value)


@pytest.mark.parametrize(
    "path",
    ["var/evidence-desk.sqlite3", "/abs/x.db", ":memory:", "a:b@c:port/d.db", "x.db?mode=ro&a=:1"],
)
def test_an_embedded_database_url_is_one_sqlalchemy_accepts_as_it_is(path: str) -> None:
    """Such URLs are passed without SQLAlchemy parsing them (so `ask` need not import it):
    after "///" its pattern finds no host or port to refuse, whatever the path holds."""
    from sqlalchemy.engine import make_url

    url = f"sqlite+aiosqlite:///{path}"
    assert Settings(database_url=f"sqlite:///{path}").database_url == url
    parsed = make_url(url)
    assert parsed.host is None
    assert parsed.port is None


def test_slack_settings_are_never_read_from_unprefixed_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A bare API_URL or BOT_TOKEN set for another program must not redirect the bot's token."""
    from bot.config.slack import SlackSettings

    monkeypatch.setenv("BOT_TOKEN", "xoxb-someone-else")
    monkeypatch.setenv("API_URL", "http://127.0.0.1:9/elsewhere/")
    monkeypatch.setenv("SLACK_SIGNING_SECRET", "ours")

    settings = SlackSettings()

    assert (settings.bot_token, settings.api_url, settings.signing_secret) == (
        "",
        "https://slack.com/api/",
        "ours",
    )
