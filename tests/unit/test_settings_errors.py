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
